package dev.zenith.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** zenith branch delete, rename and reset, with clients connected. */
class BranchManagementTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    @Test
    void deleteIsRefusedForMainKeepsWhatChildrenNeedAndFreesStorage() throws Exception {
        // a parent's name goes; its history stays for the child, as long as the child needs it
        z.cli("branch", "parent_gone", "main").ok();
        try (Connection c = z.connectProxy("parent_gone"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE inherited AS SELECT 7 AS x");
        }
        z.cli("branch", "orphan", "parent_gone").ok();
        assertThat(z.cli("branch", "delete", "parent_gone").ok().out())
                .contains("deleted branch parent_gone").contains("its history stays as long as orphan need it");
        z.cli("gc").ok();
        try (Connection c = z.connectProxy("orphan"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT x FROM inherited")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the child's data, from its deleted parent's history").isEqualTo(7);
        }
        z.cli("pg", "stop", "orphan", "--destroy").ok();
        assertThat(z.queryLong(z.start("orphan"), "SELECT x FROM inherited")).as("rebuilt after GC").isEqualTo(7);
        z.cli("pg", "stop", "orphan").ok();
        z.cli("branch", "delete", "orphan").ok();
        z.cli("gc").ok();

        z.cli("branch", "doomed", "main").ok();

        Zenith.Result deleteMain = z.cli("branch", "delete", "main");
        assertThat(deleteMain.exit()).isEqualTo(2);
        assertThat(deleteMain.err()).contains("main is the root branch");

        try (Connection c = z.connectProxy("doomed"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE heavy AS SELECT g, repeat('w', 400) AS pad FROM generate_series(1, 20000) g");
        }
        var timelineDir = z.repository().requireBranch(new dev.zenith.BranchName("doomed")).dir();
        var dataDir = z.repo().resolve("pgdatadirs").resolve(z.computesOf("doomed").get(0).get("name").asText());
        assertThat(dataDir.resolve("PG_VERSION")).exists();
        String out = z.cli("branch", "delete", "doomed").ok().out();
        assertThat(out).contains("deleted branch doomed, freed ").contains("MiB");
        assertThat(timelineDir).doesNotExist();
        assertThat(dataDir).as("moved aside at once, its files deleted in the background").doesNotExist();
        Zenith.waitFor(Duration.ofSeconds(30), () -> {
            try (var tmp = Files.list(z.repo().resolve("tmp"))) {
                return tmp.noneMatch(p -> p.getFileName().toString().startsWith("deleted-"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "the deleted data directory's files gone from tmp/");
        assertThat(z.computesOf("doomed")).isEmpty();
        assertThatThrownBy(() -> z.connectProxy("doomed")).isInstanceOfSatisfying(PSQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("3D000"));
    }

    @Test
    void renameKeepsConnectedClientsAndNewConnectionsUseTheNewName() throws Exception {
        z.cli("branch", "before_name", "main").ok();
        try (Connection live = z.connectProxy("before_name"); Statement s = live.createStatement()) {
            s.execute("CREATE TABLE named (x int)");
            s.execute("INSERT INTO named VALUES (1)");
            z.cli("branch", "rename", "before_name", "after_name").ok();
            s.execute("INSERT INTO named VALUES (2)");
            try (Connection fresh = z.connectProxy("after_name"); Statement t = fresh.createStatement()) {
                assertThat(count(t, "SELECT count(*) FROM named")).isEqualTo(2);
            }
            assertThatThrownBy(() -> z.connectProxy("before_name")).isInstanceOfSatisfying(PSQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("3D000"));
        }
        Zenith.Result taken = z.cli("branch", "rename", "after_name", "main");
        assertThat(taken.exit()).isEqualTo(1);
        assertThat(taken.err()).contains("branch \"main\" already exists");
    }

    @Test
    void resetDisconnectsClientsShowsTheParentsLatestStateAndKeepsABackup() throws Exception {
        try (Connection m = z.connectProxy("main"); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE resettable (who text)");
            s.execute("INSERT INTO resettable VALUES ('main-1')");
        }
        z.cli("branch", "feature", "main").ok();
        try (Connection live = z.connectProxy("feature"); Statement s = live.createStatement()) {
            s.execute("INSERT INTO resettable VALUES ('feature-1')");
            try (Connection m = z.connectProxy("main"); Statement t = m.createStatement()) {
                t.execute("INSERT INTO resettable VALUES ('main-2')");
            }
            String out = z.cli("branch", "reset", "feature", "--to-parent").ok().out();
            assertThat(out).contains("reset branch feature to main at ").contains("its previous state is branch feature_old_");
            assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
        }
        assertThat(rows("feature")).containsExactlyInAnyOrder("main-1", "main-2");
        String backup = z.branches().keySet().stream().filter(n -> n.startsWith("feature_old_")).findFirst().orElseThrow();
        assertThat(rows(backup)).containsExactlyInAnyOrder("main-1", "feature-1");

        z.cli("branch", "reset", "feature", "--no-backup").ok();
        assertThat(z.branches().keySet().stream().filter(n -> n.startsWith("feature_old_"))).hasSize(1);
        assertThat(rows("feature")).containsExactlyInAnyOrder("main-1", "main-2");
        Zenith.Result resetMain = z.cli("branch", "reset", "main");
        assertThat(resetMain.exit()).isEqualTo(2);
        assertThat(resetMain.err()).contains("main has no parent");
    }

    private static List<String> rows(String branch) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = z.connectProxy(branch); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT who FROM resettable")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
