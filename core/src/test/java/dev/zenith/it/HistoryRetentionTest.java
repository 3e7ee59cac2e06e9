package dev.zenith.it;

import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.Lsn;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Timeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Images keep replay bounded; garbage collection frees what no branch needs and nothing that one does. */
class HistoryRetentionTest {

    private static final long THRESHOLD = 16L << 20;

    private Zenith z;

    @BeforeEach
    void setUp() throws Exception {
        z = Zenith.empty();
        z.init().ok();
        configure("1h");
        z.cli("pageserver", "start").ok();
    }

    @AfterEach
    void tearDown() {
        z.close();
    }

    private void configure(String retention) {
        z.configure(Map.of("imageWalThresholdMb", (int) (THRESHOLD >> 20), "housekeepingInterval", "1s", "retention", retention));
    }

    /** Writes about {@code mb} MiB of WAL in one table; returns the WAL position afterwards. */
    private Lsn write(int port, String table, int mb) throws SQLException {
        try (Connection c = z.connect(port); Statement s = c.createStatement()) {
            // no autovacuum: its hint-bit and visibility-map writes would add WAL after the point under test
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id serial, pad text) WITH (autovacuum_enabled = off)");
            s.execute("INSERT INTO " + table + " (pad) SELECT repeat('p', 1000) FROM generate_series(1, " + (mb * 900) + ")");
            try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        }
    }

    private Lsn currentLsn(int port) throws SQLException {
        try (Connection c = z.connect(port); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }

    private Timeline main() {
        return z.repository().requireBranch(BranchName.MAIN);
    }

    /** Until the newest image needs less than the threshold of WAL to reach {@code lsn} (an image that took long to copy under load may not). */
    private void waitForImageNear(Lsn lsn) {
        Zenith.waitFor(Duration.ofSeconds(120),
                () -> main().newestImage().orElseThrow().walStart().value() >= lsn.value() - THRESHOLD,
                "an image whose WAL starts within " + (THRESHOLD >> 20) + " MiB of " + lsn);
    }

    @Test
    void imagesKeepReplayBoundedAfterLotsOfWal() throws Exception {
        int main = z.start("main");
        write(main, "bulk", 80);
        // the first read sets hint bits, which PostgreSQL 18 (data checksums on) WAL-logs as full pages
        long rows = z.queryLong(main, "SELECT count(*) FROM bulk");
        z.execute(main, "VACUUM bulk");
        Lsn end = currentLsn(main);
        waitForImageNear(end);
        assertThat(main().images().size()).isGreaterThan(1);

        z.cli("pg", "stop", "main", "--destroy").ok();
        long logStart = logSize("pg1");
        main = z.start("main");
        assertThat(z.queryLong(main, "SELECT count(*) FROM bulk")).isEqualTo(rows);
        long replayed = replayedBytes("pg1", logStart);
        assertThat(replayed).as("WAL replayed by the rebuild").isLessThanOrEqualTo(2 * THRESHOLD);
    }

    @Test
    void gcFreesWhatNoBranchNeedsAndEveryBranchAndPointStillComesBack() throws Exception {
        int main = z.start("main");
        Lsn early = write(main, "bulk", 20);
        long earlyRows = z.queryLong(main, "SELECT count(*) FROM bulk");
        waitForImageNear(currentLsn(main)); // so the child's branch point below needs nothing before it
        Lsn middle = write(main, "bulk", 30);
        long middleRows = z.queryLong(main, "SELECT count(*) FROM bulk");
        z.cli("branch", "kept_child", "main", "--at", middle.toString()).ok();
        write(main, "bulk", 30);
        long endRows = z.queryLong(main, "SELECT count(*) FROM bulk");
        waitForImageNear(currentLsn(main));

        String within = z.cli("gc").ok().out();
        assertThat(within).matches("(?s)gc: removed \\d+ WAL files?, \\d+ images? and \\d+ unreferenced timelines?; freed .*");
        // within the window every point still comes back
        z.cli("branch", "early", "main", "--at", early.toString()).ok();
        assertThat(z.queryLong(z.start("early"), "SELECT count(*) FROM bulk")).isEqualTo(earlyRows);
        z.cli("branch", "delete", "early").ok();

        // a retention of 0: only the latest states and the children's branch points stay
        z.cli("pageserver", "stop").ok();
        configure("0s");
        z.cli("pageserver", "start").ok();
        main = z.start("main");
        long before = sizeOfTimelines();
        String out = z.cli("gc", "--json").ok().out();
        var result = Json.MAPPER.readTree(out);
        assertThat(result.get("freedBytes").asLong()).isPositive();
        assertThat(result.get("segments").asInt()).isPositive();
        assertThat(sizeOfTimelines()).isLessThan(before);

        assertThat(z.queryLong(main, "SELECT count(*) FROM bulk")).isEqualTo(endRows);
        z.cli("pg", "stop", "main", "--destroy").ok();
        assertThat(z.queryLong(z.start("main"), "SELECT count(*) FROM bulk")).isEqualTo(endRows);
        assertThat(z.queryLong(z.start("kept_child"), "SELECT count(*) FROM bulk")).isEqualTo(middleRows);

        Zenith.Result old = z.cli("branch", "too_old", "main", "--at", "-3s");
        assertThat(old.exit()).isEqualTo(2);
        assertThat(old.err()).contains("older than the retention window");
    }

    private long sizeOfTimelines() {
        return dev.zenith.storage.FileTrees.sizeOf(z.repo().resolve("timelines"));
    }

    private long logSize(String node) throws Exception {
        var log = z.repo().resolve("logs").resolve("compute-" + node + ".log");
        return Files.exists(log) ? Files.size(log) : 0;
    }

    private long replayedBytes(String node, long fromOffset) throws Exception {
        String log = Files.readString(z.repo().resolve("logs").resolve("compute-" + node + ".log")).substring((int) fromOffset);
        Matcher starts = Pattern.compile("redo starts at ([0-9A-F]+/[0-9A-F]+)").matcher(log);
        Matcher done = Pattern.compile("redo done at ([0-9A-F]+/[0-9A-F]+)").matcher(log);
        if (!starts.find() || !done.find()) {
            return 0;
        }
        return Lsn.parse(done.group(1)).value() - Lsn.parse(starts.group(1)).value();
    }

}
