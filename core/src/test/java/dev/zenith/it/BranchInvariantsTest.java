package dev.zenith.it;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** ARCHITECTURE.md invariants 1 (no copy), 2 (end-of-WAL branch point under racing commits) and 4 (isolation). */
class BranchInvariantsTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    @Test
    void creatingABranchCopiesNoData() throws Exception {
        int main = z.start("main");
        z.execute(main, "CREATE TABLE big AS SELECT g AS id, repeat('x', 500) AS pad FROM generate_series(1, 100000) g");
        long dbBytes = z.queryLong(main, "SELECT pg_database_size('postgres')");
        assertThat(dbBytes).isGreaterThan(50L << 20);

        // the archiver may still be taking the table's segments: that is main's history, not the branch's cost
        z.awaitArchived(main);
        long before = repositoryBytesOutsideComputes();
        z.cli("branch", "nocopy_running", "main").ok();
        long afterRunning = repositoryBytesOutsideComputes();
        // Stopping main archives its last WAL (and may keep its data directory as an image): main's own
        // history, not a branch's cost.
        z.cli("pg", "stop", "main").ok();
        long beforeStopped = repositoryBytesOutsideComputes();
        z.cli("branch", "nocopy_stopped", "main").ok();
        long afterStopped = repositoryBytesOutsideComputes();

        Repository repo = z.repository();
        for (String b : new String[] {"nocopy_running", "nocopy_stopped"}) {
            assertThat(repo.requireBranch(new BranchName(b)).sizeBytes()).as("timeline of %s", b).isLessThan(16 * 1024);
        }
        assertThat(afterRunning - before).as("bytes added by a branch of a running parent").isLessThan(64 * 1024);
        assertThat(afterStopped - beforeStopped).as("bytes added by a branch of a stopped parent").isLessThan(64 * 1024);
        z.start("nocopy_running");
        assertThat(z.queryLong(z.port("nocopy_running"), "SELECT count(*) FROM big")).isEqualTo(100000);
        z.cli("pg", "stop", "nocopy_running", "--destroy").ok();
    }

    /** The repository less the computes, main's WAL and the spares the daemon copies ahead of new branches in the background. */
    private static long repositoryBytesOutsideComputes() {
        Path repo = z.repo();
        Repository r = z.repository();
        long mainWal = r.requireBranch(BranchName.MAIN).wal().sizeBytes();
        long bytes = 0;
        try (var entries = java.nio.file.Files.list(repo)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                bytes += name.equals("pgdatadirs") || name.equals("tmp") ? 0 : FileTrees.sizeOf(p);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (String left : z.leftInTmp()) {
            bytes += FileTrees.sizeOf(repo.resolve("tmp").resolve(left));
        }
        return bytes - mainWal;
    }

    record Commit(long id, Lsn before, Lsn after, long ackedAtNanos) {
    }

    @Test
    void endOfWalBranchHoldsEveryEarlierCommitAndNothingAfterItsLsn() throws Exception {
        int main = z.start("main");
        z.execute(main, "CREATE TABLE ledger (id bigint PRIMARY KEY, writer int)");
        ConcurrentLinkedQueue<Commit> commits = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ids = new AtomicLong();
        CountDownLatch warmedUp = new CountDownLatch(4);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().start(() -> {
                try (Connection c = z.connect(main); Statement s = c.createStatement()) {
                    int n = 0;
                    while (!stop.get()) {
                        Lsn before = lsn(s);
                        long id = ids.incrementAndGet();
                        s.execute("INSERT INTO ledger VALUES (" + id + ", " + writer + ")");
                        long acked = System.nanoTime();
                        commits.add(new Commit(id, before, lsn(s), acked));
                        if (++n == 20) {
                            warmedUp.countDown();
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        warmedUp.await();
        long commandStarted = System.nanoTime();
        String out = z.cli("branch", "race", "main").ok().out();
        Lsn point = Lsn.parse(out.substring(out.indexOf(": ") + 2).trim());
        // keep writing after the branch point, then stop
        long target = ids.get() + 200;
        Zenith.waitFor(java.time.Duration.ofSeconds(60), () -> ids.get() > target, "writes after the branch");
        stop.set(true);
        for (Thread t : writers) {
            t.join();
        }

        Set<Long> onBranch = new HashSet<>();
        try (Connection c = z.connect(z.start("race")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM ledger")) {
            while (rs.next()) {
                onBranch.add(rs.getLong(1));
            }
        }
        int before = 0;
        int after = 0;
        for (Commit commit : commits) {
            if (commit.ackedAtNanos() < commandStarted || !commit.after().isAfter(point)) {
                assertThat(onBranch).as("commit %s acknowledged before the branch point %s", commit, point).contains(commit.id());
                before++;
            }
            if (!commit.before().isBefore(point)) {
                assertThat(onBranch).as("commit %s made after the branch point %s", commit, point).doesNotContain(commit.id());
                after++;
            }
        }
        assertThat(before).isGreaterThan(50);
        assertThat(after).isGreaterThan(50);
    }

    private static Lsn lsn(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }

    @Test
    void writesOnABranchNeverShowOnItsParentOrSiblings() throws Exception {
        int main = z.start("main");
        z.execute(main, "CREATE TABLE iso (who text)", "INSERT INTO iso VALUES ('main-before')");
        z.cli("branch", "iso_a", "main").ok();
        z.cli("branch", "iso_b", "main").ok();
        z.execute(main, "INSERT INTO iso VALUES ('main-after')");
        int a = z.start("iso_a");
        int b = z.start("iso_b");
        z.execute(a, "INSERT INTO iso VALUES ('a')");
        z.execute(b, "INSERT INTO iso VALUES ('b')", "DELETE FROM iso WHERE who = 'main-before'");

        assertThat(rows(main)).containsExactlyInAnyOrder("main-before", "main-after");
        assertThat(rows(a)).containsExactlyInAnyOrder("main-before", "a");
        assertThat(rows(b)).containsExactlyInAnyOrder("b");

        // and a branch of a branch sees its parent's writes, not its grandparent's later ones
        z.cli("branch", "iso_a_child", "iso_a").ok();
        z.execute(a, "INSERT INTO iso VALUES ('a-after')");
        assertThat(rows(z.start("iso_a_child"))).containsExactlyInAnyOrder("main-before", "a");
    }

    private static List<String> rows(int port) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = z.connect(port); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT who FROM iso")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
