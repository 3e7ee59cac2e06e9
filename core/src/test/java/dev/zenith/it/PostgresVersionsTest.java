package dev.zenith.it;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The core of the suite on each PostgreSQL major version zenith fetches (18, the bundled one, runs the
 * whole suite): the seed workflow through the proxy with an on-demand start, branches at an LSN and at
 * a time, a read-only view of the past, idle suspend and resume, a compute killed under load that
 * loses no acknowledged commit, a branch of a stopped parent, GC, and password mode. The WAL reader and pg_control's offsets are checked on the way: a
 * branch at a time finds its LSN by reading that version's WAL.
 */
class PostgresVersionsTest {

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {15, 16, 17})
    void theCoreWorkflowOnEveryVersion(int major) throws Exception {
        try (Zenith z = Zenith.empty()) {
            z.init("--pg-version", Integer.toString(major), "--idle-timeout", "1s").ok();
            z.cli("pageserver", "start").ok();
            assertThat(z.cli("status").ok().out()).contains("PostgreSQL " + major);

            // on-demand start through the proxy, on this major version
            List<String> lsns = new ArrayList<>();
            List<String> times = new ArrayList<>();
            try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
                assertThat(value(s, "SHOW server_version_num")).startsWith(Integer.toString(major));
                s.execute("CREATE TABLE filler AS SELECT g, repeat('v', 300) AS pad FROM generate_series(1, 60000) g");
                s.execute("CREATE TABLE rows (id int)");
                for (int i = 1; i <= 10; i++) {
                    s.execute("INSERT INTO rows VALUES (" + i + ")");
                    lsns.add(value(s, "SELECT pg_current_wal_insert_lsn()"));
                    times.add(value(s, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
                }
            }
            z.cli("branch", "feature", "main").ok();
            try (Connection c = z.connectProxy("feature"); Statement s = c.createStatement()) {
                s.execute("INSERT INTO rows VALUES (100)");
            }
            assertThat(count(z, "main")).as("a branch's writes stay on it").isEqualTo(10);
            assertThat(count(z, "feature")).isEqualTo(11);

            // time travel: at an LSN, at a time, and a read-only view
            z.cli("branch", "at_lsn", "main", "--at", lsns.get(3)).ok();
            assertThat(count(z, "at_lsn")).isEqualTo(4);
            z.cli("branch", "at_time", "main", "--at", times.get(6)).ok();
            assertThat(count(z, "at_time")).isEqualTo(7);
            assertThat(count(z, "main@" + lsns.get(1))).as("read-only view").isEqualTo(2);

            // idle suspend, and resume with every row
            Zenith.waitFor(Duration.ofSeconds(60), () -> "suspended".equals(state(z, "feature")), "feature to suspend");
            assertThat(count(z, "feature")).isEqualTo(11);

            // a compute killed under load loses no acknowledged commit
            int port = z.start("main"); // started by hand: it stays up until stopped
            try (Ledger ledger = new Ledger(z, port, "ledger")) {
                ledger.startWriting(port);
                ledger.awaitAcknowledged(200);
                z.kill9Postmaster(z.compute("main").orElseThrow().path("name").asText());
                ledger.stopWriting();
                assertThat(ledger.lost(z.start("main"))).isZero();
            }

            // a clean stop keeps an image, a branch of the stopped parent starts from it, and GC runs
            z.cli("pg", "stop", "main").ok();
            z.cli("branch", "after_stop", "main").ok();
            assertThat(count(z, "after_stop")).isEqualTo(10);
            assertThat(z.cli("gc").ok().out()).contains("freed");
            assertThat(count(z, "at_time")).as("GC keeps what branches need").isEqualTo(7);

            // password mode: the switch covers branches made before it, and the postgres role
            z.cli("pageserver", "stop").ok();
            Path passwordFile = z.dir().resolve("pw.txt");
            Files.writeString(passwordFile, "versions and versions\n");
            z.cli("auth", "password", "--password-file", passwordFile.toString()).ok();
            z.cli("pageserver", "start").ok();
            try (Connection c = DriverManager.getConnection(z.proxyUrl("branch%3Dat_lsn") + "&password=versions%20and%20versions");
                 Statement s = c.createStatement()) {
                assertThat(value(s, "SELECT count(*) FROM rows")).isEqualTo("4");
            }
            if (Psql.installed()) {
                assertThat(Psql.run("postgresql://postgres@127.0.0.1:" + z.proxyPort() + "/postgres",
                        Map.of("PGPASSWORD", "versions and versions"), "SELECT current_user").out()).isEqualTo("postgres");
            }

            if (major == 15 && Psql.installed()) {
                // Debian 12's own client tools are version 15: pg_dump refuses newer servers
                ProcessBuilder pgDump = new ProcessBuilder("pg_dump", "-s", "host=127.0.0.1 port=" + z.proxyPort()
                        + " dbname=postgres options=branch=feature");
                pgDump.environment().put("PGPASSWORD", "versions and versions");
                Zenith.Result dump = Zenith.run(pgDump, Duration.ofMinutes(1));
                assertThat(dump.exit()).as(dump.err()).isZero();
                assertThat(dump.out()).contains("CREATE TABLE public.rows");
            }
        }
    }

    private static long count(Zenith z, String branch) throws Exception {
        try (Connection c = z.connectProxy(branch.replace("@", "%40")); Statement s = c.createStatement()) {
            return Long.parseLong(value(s, "SELECT count(*) FROM rows"));
        }
    }

    private static String state(Zenith z, String branch) {
        return z.compute(branch).map(n -> n.path("state").asText()).orElse("");
    }

    private static String value(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
