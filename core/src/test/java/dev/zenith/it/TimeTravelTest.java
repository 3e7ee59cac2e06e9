package dev.zenith.it;

import dev.zenith.Lsn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** ARCHITECTURE.md invariant 3: a branch at LSN L (or time T) shows exactly the parent's state there. */
class TimeTravelTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    /** Inserts rows {@code from..to} one transaction each; returns the WAL position after each commit. */
    private static List<Lsn> commitEach(int port, String table, int from, int to) throws SQLException {
        List<Lsn> after = new ArrayList<>();
        try (Connection c = z.connect(port); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id int)");
            for (int i = from; i <= to; i++) {
                s.execute("INSERT INTO " + table + " VALUES (" + i + ")");
                try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
                    rs.next();
                    after.add(Lsn.parse(rs.getString(1)));
                }
            }
        }
        return after;
    }

    private static List<Integer> ids(int port, String table) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (Connection c = z.connect(port); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids;
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> r = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            r.add(i);
        }
        return r;
    }

    @Test
    void branchAtAnLsnShowsExactlyTheStateThere() throws Exception {
        int main = z.start("main");
        List<Lsn> after = commitEach(main, "lsn_rows", 1, 30);
        String out = z.cli("branch", "at_ten", "main", "--at", after.get(9).toString()).ok().out();
        assertThat(out.trim()).isEqualTo("branching at LSN: " + after.get(9));
        assertThat(ids(z.start("at_ten"), "lsn_rows")).isEqualTo(range(1, 10));

        z.cli("pg", "stop", "main").ok();
        z.cli("branch", "at_twenty", "main", "--at", after.get(19).toString()).ok();
        assertThat(ids(z.start("at_twenty"), "lsn_rows")).isEqualTo(range(1, 20));
        z.cli("branch", "at_first", "main", "--at", after.get(0).toString()).ok();
        assertThat(ids(z.start("at_first"), "lsn_rows")).isEqualTo(range(1, 1));
        // each paused at its point and then promoted, without an ERROR in its log for a start that went well
        assertThat(List.of("at_ten", "at_twenty", "at_first")).allSatisfy(node -> assertThat(z.computeLog(node))
                .contains("database system is ready to accept connections").doesNotContain("ERROR:"));
    }

    @Test
    void branchesOfBranchesAtPastPointsThreeLevelsDeep() throws Exception {
        int main = z.start("main");
        List<Lsn> onMain = commitEach(main, "chain", 1, 10);
        z.cli("branch", "level1", "main", "--at", onMain.get(4).toString()).ok();          // rows 1..5
        int l1 = z.start("level1");
        List<Lsn> onL1 = commitEach(l1, "chain", 101, 110);
        z.cli("branch", "level2", "level1", "--at", onL1.get(2).toString()).ok();         // 1..5, 101..103
        int l2 = z.start("level2");
        List<Lsn> onL2 = commitEach(l2, "chain", 201, 210);
        z.cli("pg", "stop", "level2").ok();
        z.cli("branch", "level3", "level2", "--at", onL2.get(6).toString()).ok();         // ..., 201..207

        List<Integer> expected = new ArrayList<>(range(1, 5));
        expected.addAll(range(101, 103));
        assertThat(ids(z.start("level2"), "chain")).containsAll(expected).hasSize(18);
        expected.addAll(range(201, 207));
        assertThat(ids(z.start("level3"), "chain")).isEqualTo(expected);
        // and rebuilt from the repository alone, level 3 is still exactly that
        z.cli("pg", "stop", "level3", "--destroy").ok();
        assertThat(ids(z.start("level3"), "chain")).isEqualTo(expected);
    }

    /** Inserts rows {@code from..to} one transaction each; returns the server's clock right after each commit. */
    private static List<String> commitEachWithTime(int port, String table, int from, int to) throws SQLException {
        List<String> after = new ArrayList<>();
        try (Connection c = z.connect(port); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id int)");
            for (int i = from; i <= to; i++) {
                s.execute("INSERT INTO " + table + " VALUES (" + i + ")");
                try (ResultSet rs = s.executeQuery(
                        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")) {
                    rs.next();
                    after.add(rs.getString(1));
                }
            }
        }
        return after;
    }

    @Test
    void branchAtATimeShowsExactlyTheCommitsUntilThen() throws Exception {
        int main = z.start("main");
        // enough WAL before the point that the reader must find the right segment
        z.execute(main, "CREATE TABLE filler AS SELECT g, repeat('z', 300) AS pad FROM generate_series(1, 100000) g");
        List<String> times = commitEachWithTime(main, "time_rows", 1, 20);
        String out = z.cli("branch", "at_time", "main", "--at", times.get(6)).ok().out();
        assertThat(out).startsWith("branching at LSN: ");
        assertThat(ids(z.start("at_time"), "time_rows")).isEqualTo(range(1, 7));

        z.cli("pg", "stop", "main").ok();
        z.cli("branch", "at_time_stopped", "main", "--at", times.get(14)).ok();
        assertThat(ids(z.start("at_time_stopped"), "time_rows")).isEqualTo(range(1, 15));
        z.cli("branch", "at_time_last", "main", "--at", times.get(19)).ok();
        assertThat(ids(z.start("at_time_last"), "time_rows")).isEqualTo(range(1, 20));
        // a branch of a branch at a time in the child's own life
        int child = z.port("at_time");
        List<String> onChild = commitEachWithTime(child, "time_rows", 101, 105);
        z.cli("branch", "at_time_grandchild", "at_time", "--at", onChild.get(1)).ok();
        List<Integer> expected = new ArrayList<>(range(1, 7));
        expected.addAll(range(101, 102));
        assertThat(ids(z.start("at_time_grandchild"), "time_rows")).isEqualTo(expected);
    }

    @Test
    void eachBranchCanHaveItsOwnRetentionWindow() throws Exception {
        z.cli("branch", "short_memory", "main", "--retention", "0s").ok();
        List<String> times = commitEachWithTime(z.start("short_memory"), "memory_rows", 1, 3);
        Zenith.Result refused = z.cli("branch", "too_far", "short_memory", "--at", times.get(0));
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("older than the retention window of branch short_memory (0s)");

        z.cli("branch", "retention", "short_memory", "1h").ok();
        z.cli("branch", "far_enough", "short_memory", "--at", times.get(0)).ok();
        assertThat(ids(z.start("far_enough"), "memory_rows")).isEqualTo(range(1, 1));
        Zenith.Result bad = z.cli("branch", "retention", "short_memory", "forever-ish");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("invalid retention \"forever-ish\"");
    }

    @Test
    void timesOutsideTheParentsLifeAreRefused() {
        Zenith.Result future = z.cli("branch", "t1", "main", "--at", "2999-01-01T00:00:00Z");
        assertThat(future.exit()).isEqualTo(2);
        assertThat(future.err()).contains("is in the future");
        Zenith.Result before = z.cli("branch", "t2", "main", "--at", "-1d");
        assertThat(before.exit()).isEqualTo(2);
        assertThat(before.err()).contains("before branch main existed").contains("choose a time from");
    }

    @Test
    void thePastReadOnlyWithoutABranch() throws Exception {
        int main = z.start("main");
        List<Lsn> lsns = commitEach(main, "past_rows", 1, 10);
        List<String> times = commitEachWithTime(main, "past_rows", 11, 20);
        int branchesBefore = com.fasterxml.jackson.databind.json.JsonMapper.builder().build()
                .readTree(z.cli("branch", "--json").ok().out()).size();

        String atLsn = "branch%3Dmain%40" + lsns.get(4);
        try (Connection c = java.sql.DriverManager.getConnection(z.proxyUrl(atLsn)); Statement s = c.createStatement()) {
            assertThat(idsOn(s, "past_rows")).isEqualTo(range(1, 5));
            assertThatWriteIsRefused(s);
            // a second client at the same point shares the same read-only compute
            try (Connection again = java.sql.DriverManager.getConnection(z.proxyUrl(atLsn)); Statement t = again.createStatement()) {
                assertThat(port(t)).isEqualTo(port(s));
            }
        }
        String atTime = "branch%3Dmain%40" + java.net.URLEncoder.encode(times.get(2), java.nio.charset.StandardCharsets.UTF_8);
        try (Connection c = java.sql.DriverManager.getConnection(z.proxyUrl(atTime)); Statement s = c.createStatement()) {
            assertThat(idsOn(s, "past_rows")).isEqualTo(range(1, 13));
        }
        assertThat(com.fasterxml.jackson.databind.json.JsonMapper.builder().build()
                .readTree(z.cli("branch", "--json").ok().out()).size()).isEqualTo(branchesBefore);
        assertThat(ids(main, "past_rows")).isEqualTo(range(1, 20));

        String out = z.cli("pg", "start", "main", "--at", lsns.get(7).toString()).ok().out();
        assertThat(out).contains("Starting read-only postgres node").contains("at " + lsns.get(7));
        int port = Integer.parseInt(out.replaceAll("(?s).*port=(\\d+).*", "$1"));
        try (Connection c = z.connect(port); Statement s = c.createStatement()) {
            assertThat(idsOn(s, "past_rows")).isEqualTo(range(1, 8));
            assertThatWriteIsRefused(s);
        }
        assertThat(z.cli("pg", "list").ok().out()).contains("main@" + lsns.get(7));

        java.sql.SQLException bad = org.assertj.core.api.Assertions.catchThrowableOfType(java.sql.SQLException.class,
                () -> java.sql.DriverManager.getConnection(z.proxyUrl("branch%3Dmain%40FF%2F0")).close());
        assertThat(bad.getSQLState()).isEqualTo("22023");
        assertThat(bad.getMessage()).contains("outside branch main's history");
    }

    @Test
    void aReadOnlyViewIsRemovedWhenIdle() throws Exception {
        Zenith quick = Zenith.empty();
        try {
            quick.init().ok();
            quick.configure(Map.of("readOnlyIdleTimeout", "1s"));
            quick.cli("pageserver", "start").ok();
            try (Connection c = quick.connectProxy("main"); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (x int)");
            }
            String lsn;
            try (Connection c = quick.connectProxy("main"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
                rs.next();
                lsn = rs.getString(1);
            }
            try (Connection c = java.sql.DriverManager.getConnection(quick.proxyUrl("branch%3Dmain%40" + lsn))) {
                assertThat(c.isValid(5)).isTrue();
                assertThat(quick.computesOf("main")).anyMatch(n -> n.path("readOnlyAt").asText().equals(lsn));
            }
            Zenith.waitFor(java.time.Duration.ofSeconds(60), () -> quick.computesOf("main").stream()
                            .allMatch(n -> n.path("readOnlyAt").isNull()),
                    "the read-only view to go away");
            assertThat(quick.repo().resolve("pgdatadirs")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("ro_"));
        } finally {
            quick.close();
        }
    }

    private static void assertThatWriteIsRefused(Statement s) {
        java.sql.SQLException e = org.assertj.core.api.Assertions.catchThrowableOfType(java.sql.SQLException.class,
                () -> s.execute("INSERT INTO past_rows VALUES (-1)"));
        assertThat(e.getSQLState()).isEqualTo("25006");
    }

    private static List<Integer> idsOn(Statement s, String table) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT id FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids;
    }

    private static int port(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SHOW port")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void pointsOutsideTheParentsHistoryAreRefusedWithTheRange() throws Exception {
        int main = z.start("main");
        List<Lsn> after = commitEach(main, "range_rows", 1, 3);
        z.cli("branch", "young", "main").ok();

        Zenith.Result before = z.cli("branch", "x1", "young", "--at", "0/100");
        assertThat(before.exit()).isEqualTo(2);
        assertThat(before.err()).contains("LSN 0/100 is outside branch young's history").contains("choose an LSN from");

        Zenith.Result future = z.cli("branch", "x2", "main", "--at", "FF/0");
        assertThat(future.exit()).isEqualTo(2);
        assertThat(future.err()).contains("its WAL ends at").contains("choose an LSN from");

        Zenith.Result garbage = z.cli("branch", "x3", "main", "--at", "yesterday-ish");
        assertThat(garbage.exit()).isEqualTo(2);
        assertThat(garbage.err()).contains("invalid point \"yesterday-ish\"");
        assertThat(z.cli("branch", "--json").ok().out()).doesNotContain("\"x1\"", "\"x2\"", "\"x3\"");
        assertThat(after).hasSize(3);
    }
}
