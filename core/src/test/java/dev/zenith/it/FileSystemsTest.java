package dev.zenith.it;

import dev.zenith.postgres.OsUser;
import dev.zenith.BranchName;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a branch costs depends on the repository's file system: init and status say which kind it is
 * and whether it clones, found by trying on real XFS and btrfs made in loop files, and on a tmpfs.
 */
class FileSystemsTest {

    @BeforeEach
    void needsRootAndMkfs() {
        assumeTrue(OsUser.currentUid() == 0, "making file systems needs root");
        assumeTrue(Mount.canMake("xfs") && Mount.canMake("btrfs"),
                "mkfs.xfs and mkfs.btrfs are missing (apt-get install xfsprogs btrfs-progs)");
    }

    @Test
    void initAndStatusSayWhetherTheFileSystemClones() throws Exception {
        for (String type : new String[] {"xfs", "btrfs"}) {
            try (Mount mount = Mount.loop(type, 512); Zenith z = Zenith.in(mount.dir())) {
                assertThat(z.init().ok().out()).contains("file system: " + type + " (copy-on-write");
                assertThat(z.cli("status").ok().out()).contains("file system: " + type + " (copy-on-write");
                assertThat(z.cli("status", "--json").ok().out()).contains("\"clones\" : true");
            }
        }
        try (Mount mount = Mount.tmpfs("300m"); Zenith z = Zenith.in(mount.dir())) {
            assertThat(z.init().ok().out()).contains("file system: tmpfs (no copy-on-write: a started branch copies its image (")
                    .contains("MiB now)");
            assertThat(z.cli("status", "--json").ok().out()).contains("\"clones\" : false");
        }
    }

    @Test
    void onXfsAndBtrfsANewStartedBranchSharesItsParentsBlocks() throws Exception {
        for (String type : new String[] {"xfs", "btrfs"}) {
            try (Mount mount = Mount.loop(type, 2048)) {
                long cost = costOfANewStartedBranch(mount.dir());
                System.out.println(type + ": a new started branch of a 150 MB database took " + (cost >> 20) + " MB");
                assertThat(cost).as("bytes a new started branch took on " + type).isLessThan(20L << 20);
            }
        }
        try (Mount mount = Mount.tmpfs("1g")) {
            long cost = costOfANewStartedBranch(mount.dir());
            System.out.println("tmpfs: a new started branch of a 150 MB database took " + (cost >> 20) + " MB");
            assertThat(cost).as("a file system that cannot clone copies the data").isGreaterThan(100L << 20);
        }
    }

    /**
     * A branch per test: once a branch has started from an image, a spare copy of it waits in tmp/ for the
     * next branch made at the same point, which starts from it and sees none of the first one's writes. On
     * XFS the copy is a clone; on ext4 a written copy, within the spares' budget, which status shows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"xfs", "ext4"})
    void branchesMadeInARowStartFromASpareCopy(String type) throws Exception {
        try (Mount mount = Mount.loop(type, 1024); Zenith z = Zenith.in(mount.dir())) {
            String newestImageOfMain = mainWithOneRow(z);
            for (String branch : new String[] {"test-1", "test-2", "test-3"}) {
                z.cli("branch", branch, "main").ok();
                assertThat(rowsAfterAnInsert(z, branch)).as("rows on " + branch).isEqualTo(2);
                Zenith.waitFor(Duration.ofSeconds(30), () -> hasSpareOf(z, newestImageOfMain), "a spare copy of main's image in tmp/");
                z.cli("branch", "delete", branch).ok();
            }
            String log = Files.readString(z.repo().resolve("logs").resolve("pageserver.log"));
            assertThat(log.lines().filter(l -> l.contains("from a spare copy of image")).count())
                    .as("starts from a spare copy: at least the second and third branch's").isGreaterThanOrEqualTo(2);
            assertThat(z.cli("status").ok().out()).contains("spares:      1 copy of images ready for new branches")
                    .contains(type.equals("xfs") ? "(clones: next to no disk)" : "MiB of a ");
        }
    }

    /** A budget smaller than an image: no spare is made, and the branches start all the same. */
    @Test
    void onExt4SparesKeepToTheirBudget() throws Exception {
        try (Mount mount = Mount.loop("ext4", 1024); Zenith z = Zenith.in(mount.dir())) {
            z.init().ok();
            z.configure(Map.of("spareDiskMb", 1));
            z.cli("pageserver", "start").ok();
            z.execute(z.start("main"), "CREATE TABLE orders (id int)", "INSERT INTO orders VALUES (1)");
            z.cli("pg", "stop", "main").ok();
            z.cli("branch", "test-1", "main").ok();
            assertThat(rowsAfterAnInsert(z, "test-1")).isEqualTo(2);
            z.awaitDaemon(Duration.ofSeconds(30), () -> z.daemonLog().contains("do not fit the spares' budget"),
                    "the spare refused for its size");
            assertThat(z.cli("status").ok().out()).contains("spares:      0 copies of images ready for new branches, 0 B of a 1.0 MiB budget");
        }
    }

    /** Main with a table of one row, stopped; the name of its newest image. */
    private static String mainWithOneRow(Zenith z) throws Exception {
        z.init().ok();
        z.cli("pageserver", "start").ok();
        z.execute(z.start("main"), "CREATE TABLE orders (id int)", "INSERT INTO orders VALUES (1)");
        z.cli("pg", "stop", "main").ok();
        return z.repository().requireBranch(BranchName.MAIN).newestImage().orElseThrow().dataDir().getFileName().toString();
    }

    private static long rowsAfterAnInsert(Zenith z, String branch) throws Exception {
        try (Connection c = z.connectProxy(branch); Statement s = c.createStatement()) {
            s.execute("INSERT INTO orders VALUES (2)");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean hasSpareOf(Zenith z, String image) {
        try (Stream<Path> tmp = Files.list(z.repo().resolve("tmp"))) {
            return tmp.anyMatch(p -> p.getFileName().toString().startsWith("spare-" + image + "-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the file system says a branch of a 150 MB database costs from its creation to its first answer. */
    private static long costOfANewStartedBranch(Path dir) throws Exception {
        try (Zenith z = Zenith.in(dir)) {
            z.init().ok();
            z.cli("pageserver", "start").ok();
            // VACUUM sets the hint bits a first read would otherwise set on every page, rewriting them all
            z.execute(z.start("main"), "CREATE TABLE big AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 450000) g",
                    "VACUUM big");
            z.cli("pg", "stop", "main").ok(); // on XFS and btrfs a stop image: the branch replays nothing
            long before = used(dir);
            z.cli("branch", "b", "main").ok();
            try (Connection c = z.connectProxy("b"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM big")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(450_000);
            }
            long cost = used(dir) - before;
            comesBackFromTheArchiveAlone(z);
            return cost;
        }
    }

    /** Writes on the branch are archived without a failure and survive its data directory's removal. */
    private static void comesBackFromTheArchiveAlone(Zenith z) throws Exception {
        int port = z.port("b");
        z.execute(port, "CREATE TABLE kept AS SELECT g FROM generate_series(1, 1000) g", "SELECT pg_switch_wal()");
        z.awaitArchived(port);
        assertThat(z.queryLong(port, "SELECT failed_count FROM pg_stat_archiver")).as("archive failures").isZero();
        z.cli("pg", "stop", "b", "--destroy").ok();
        try (Connection c = z.connectProxy("b"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM kept")) {
            rs.next();
            assertThat(rs.getLong(1)).as("rows rebuilt from the repository alone").isEqualTo(1000);
        }
    }

    /** Bytes in use on the file system of {@code dir}, as df counts them (shared blocks once), after a sync. */
    private static long used(Path dir) throws IOException {
        Mount.run("sync", "-f", dir.toString());
        var store = Files.getFileStore(dir);
        return store.getTotalSpace() - store.getUnallocatedSpace();
    }
}
