package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code zenith import} from a real server outside zenith (Debian's PostgreSQL 15, which .ci/run installs,
 * with its client tools) into a repository whose main runs zenith's PostgreSQL 18: a physical copy runs at
 * the source's version, and so does a logical one unless told; a dump file at the repository's; dumps of every
 * format; refusals that leave nothing.
 */
class ImportTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    private static SourcePostgres source;

    @BeforeAll
    static void source() throws Exception {
        boolean installed = Files.isExecutable(SourcePostgres.DEBIAN_15.resolve("postgres"))
                && Files.isExecutable(SourcePostgres.DEBIAN_15.resolve("pg_basebackup"));
        if (System.getenv("CI") == null) {
            assumeTrue(installed, "Debian's PostgreSQL 15 is not installed (apt-get install postgresql-15)");
        } else {
            assertThat(installed).as(".ci/run installs postgresql-15").isTrue();
        }
        source = SourcePostgres.start(SourcePostgres.DEBIAN_15);
        source.execute("postgres", "CREATE ROLE app LOGIN", "CREATE DATABASE shop", "CREATE DATABASE other");
        source.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, item text)",
                "INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 5000) g",
                "CREATE TABLE audit (at timestamptz, what text)",
                "INSERT INTO audit SELECT now(), 'secret ' || g FROM generate_series(1, 100) g",
                "ALTER TABLE orders OWNER TO app", "GRANT SELECT ON audit TO app");
        source.execute("other", "CREATE TABLE notes AS SELECT 'kept' AS note");
        if (POSTGIS) {
            source.execute("postgres", "CREATE DATABASE geo");
            source.execute("geo", "CREATE EXTENSION postgis", "CREATE TABLE places AS SELECT ST_MakePoint(13.4, 52.5) AS at");
        }
    }

    /** Debian's PostGIS for its PostgreSQL 15, which .ci/run installs: an extension the copy must run too. */
    private static final boolean POSTGIS = Files.exists(Path.of("/usr/share/postgresql/15/extension/postgis.control"));

    @AfterAll
    static void stopSource() throws Exception {
        if (source != null) {
            source.close();
        }
    }

    @Test
    void aServerIsCopiedPhysicallyAtItsOwnVersionAndBranchesLikeAnyBranch() throws Exception {
        Zenith.Result imported = z.cli("import", source.uri("postgres", "shop"), "--as", "prod").ok();
        assertThat(imported.out()).contains("as branch prod (physical, PostgreSQL 15")
                .contains("postgresql://").contains("/shop?options=branch%3Dprod");

        assertThat(query("prod", "shop", "SELECT count(*) || ' ' || current_setting('server_version_num')::int / 10000"
                + " || ' ' || pg_get_userbyid(relowner) FROM orders, pg_class WHERE relname = 'orders' GROUP BY relowner"))
                .as("rows, major version and owner").isEqualTo("5000 15 app");
        assertThat(query("prod", "other", "SELECT note FROM notes")).as("every database comes along").isEqualTo("kept");
        // the copy runs the source's server as this machine installed it, not zenith's own build of 15
        assertThat(query("prod", "shop", "SELECT version()")).contains("Debian");
        if (POSTGIS) {
            assertThat(query("prod", "geo", "SELECT ST_AsText(at) FROM places")).as("its extensions work").isEqualTo("POINT(13.4 52.5)");
        }
        assertThat(query("main", "postgres", "SELECT current_setting('server_version_num')::int / 10000"))
                .as("main still runs the repository's version").isEqualTo("18");

        z.cli("branch", "fix", "prod").ok();
        execute("fix", "shop", "DELETE FROM orders WHERE id <= 1000");
        assertThat(query("fix", "shop", "SELECT count(*) FROM orders")).isEqualTo("4000");
        assertThat(query("prod", "shop", "SELECT count(*) FROM orders")).as("the import is untouched").isEqualTo("5000");

        // its data lives in the repository: rebuilt from the image and WAL, it is all there
        z.cli("pg", "stop", "prod", "--destroy").ok();
        assertThat(query("prod", "shop", "SELECT count(*) FROM orders")).isEqualTo("5000");

        JsonNode branches = Json.MAPPER.readTree(z.cli("branch", "--json").ok().out());
        assertThat(branches.findValuesAsText("name")).contains("main", "prod", "fix");
        for (JsonNode b : branches) {
            String name = b.path("name").asText();
            if (name.equals("prod") || name.equals("fix")) {
                assertThat(b.path("pgVersion").asInt()).as(name).isEqualTo(15);
            }
            if (name.equals("main")) {
                assertThat(b.path("pgVersion").asInt()).isEqualTo(18);
            }
        }
        assertThat(z.cli("branch").ok().out()).startsWith("main [")
                .contains("imported from " + source.uri("postgres", "shop") + " (physical)  PostgreSQL 15");
        assertThat(tmpIsEmpty()).isTrue();
    }

    @Test
    void aRoleWithoutReplicationIsImportedLogicallyIntoTheSourcesVersion() throws Exception {
        Zenith.Result imported = z.cli("import", source.uri("app", "shop"), "--as", "app-view", "--json").ok();
        JsonNode result = Json.MAPPER.readTree(imported.out());
        assertThat(result.path("method").asText()).isEqualTo("LOGICAL");
        assertThat(result.path("why").asText()).contains("role app has no REPLICATION");
        assertThat(result.path("pgVersion").asInt()).isEqualTo(15);
        assertThat(result.path("database").asText()).isEqualTo("shop");
        assertThat(query("app-view", "shop", "SELECT current_setting('server_version_num')::int / 10000")).isEqualTo("15");
        assertThat(query("app-view", "shop", "SELECT count(*) || ' ' || pg_get_userbyid(relowner) FROM orders, pg_class"
                + " WHERE relname = 'orders' GROUP BY relowner")).as("rows and owner").isEqualTo("5000 app");
        assertThat(query("app-view", "shop", "SELECT has_table_privilege('app', 'audit', 'SELECT')")).isEqualTo("t");

        // the restore ran at wal_level minimal: a view of the import's end recovers from its image as a standby,
        // which Postgres refuses when the image's pg_control still says minimal
        String importEnd = lastLsn("app-view");
        execute("app-view", "shop", "DELETE FROM orders");
        assertThat(query("app-view@" + importEnd, "shop", "SELECT count(*) FROM orders")).isEqualTo("5000");
    }

    @Test
    void anImportMaskedOnTheWayKeepsNoByteOfTheMaskedValues() throws Exception {
        Path rules = Files.writeString(z.dir().resolve("import-rules.yaml"), """
                shop:
                  audit:
                    what: {value: redacted}
                  orders:
                    item: hash
                """);
        for (String method : List.of("physical", "logical")) {
            List<String> args = new ArrayList<>(List.of("import", source.uri("postgres", "shop"), "--as", "masked-" + method,
                    "--mask", rules.toString()));
            if (method.equals("logical")) {
                args.add("--logical");
            }
            Zenith.Result imported = z.cli(args.toArray(String[]::new)).ok();
            assertThat(imported.out()).contains("(" + method + ", masked");
            assertThat(query("masked-" + method, "shop", "SELECT count(DISTINCT what) || ' ' || min(what) || ' ' || (SELECT count(*)"
                    + " FROM orders WHERE item LIKE 'item %') || ' ' || (SELECT count(DISTINCT item) FROM orders) FROM audit"))
                    .as(method).isEqualTo("1 redacted 0 5000");
            List<Path> files = new ArrayList<>(z.dataDirsOf("masked-" + method));
            files.add(z.repository().requireBranch(new dev.zenith.BranchName("masked-" + method)).dir());
            // 'secret 17' is in the source's audit table, and nowhere in what the masked import made
            assertThat(FilesHolding.of(files, "secret 17")).as(method).isEmpty();
        }
        Zenith.Result followed = z.cli("import", source.uri("postgres", "shop"), "--as", "nope", "--mask", rules.toString(), "--follow");
        assertThat(followed.exit()).isEqualTo(2);
        assertThat(followed.err()).contains("--mask and --follow do not go together");
    }

    @Test
    void pgDumpsFiltersArePassedOn() throws Exception {
        z.cli("import", source.uri("postgres", "shop"), "--as", "no-audit", "--exclude-table-data", "audit").ok();
        assertThat(query("no-audit", "shop", "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM audit)"))
                .isEqualTo("5000 0");
        Zenith.Result schema = z.cli("import", source.uri("postgres", "shop"), "--as", "schema", "--schema-only", "--pg-version", "18").ok();
        assertThat(schema.out()).as("--pg-version over the source's").contains("(logical, PostgreSQL 18");
        assertThat(query("schema", "shop", "SELECT count(*) FROM orders")).isEqualTo("0");
    }

    @Test
    void everyDumpFormatIsRestored() throws Exception {
        Path dumps = Files.createTempDirectory(z.dir(), "dumps");
        Map<String, String> formats = Map.of("c", "shop.dump", "d", "shop.dir", "t", "shop.tar", "p", "shop.sql");
        for (Map.Entry<String, String> f : formats.entrySet()) {
            source.tool("pg_dump", "-d", source.uri("postgres", "shop"), "-F" + f.getKey(), "-f", dumps.resolve(f.getValue()).toString());
            String branch = "dump-" + f.getKey();
            Zenith.Result imported = z.cli("import", dumps.resolve(f.getValue()).toString(), "--as", branch).ok();
            assertThat(imported.out()).contains("(logical, PostgreSQL 18");
            // a plain SQL dump does not say which database it was made of: it goes into postgres
            String database = f.getKey().equals("p") ? "postgres" : "shop";
            assertThat(query(branch, database, "SELECT count(*) FROM orders")).as(f.getValue()).isEqualTo("5000");
        }
    }

    @Test
    void badInputIsRefusedClearlyAndLeavesNothing() throws Exception {
        // names and timelines, not the listing: the computes of earlier tests go on writing (their last LSN moves)
        Map<String, String> before = z.branches();

        Zenith.Result missing = z.cli("import", z.dir().resolve("nothing-here.dump").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("neither a connection string nor a dump file");

        Zenith.Result unreachable = z.cli("import", "postgresql://postgres@127.0.0.1:" + Zenith.freePort() + "/shop", "--as", "x");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).contains("cannot reach the source").contains("Connection refused");

        Zenith.Result noDatabase = z.cli("import", source.uri("postgres", "nosuchdb"), "--as", "x");
        assertThat(noDatabase.exit()).isEqualTo(1);
        assertThat(noDatabase.err()).contains("database \"nosuchdb\" does not exist");

        Zenith.Result version = z.cli("import", source.uri("postgres", "shop"), "--as", "x", "--pg-version", "14");
        assertThat(version.exit()).isEqualTo(2);
        assertThat(version.err()).contains("--pg-version 14 is not one zenith runs");

        Zenith.Result taken = z.cli("import", source.uri("postgres", "shop"), "--as", "main");
        assertThat(taken.exit()).isEqualTo(1);
        assertThat(taken.err()).contains("branch \"main\" already exists").contains("--as NAME");

        Zenith.Result badName = z.cli("import", source.uri("postgres", "shop"), "--as", "no/slash");
        assertThat(badName.exit()).isEqualTo(2);

        assertThat(z.branches()).isEqualTo(before);
        assertThat(tmpIsEmpty()).isTrue();
    }

    @Test
    void thePasswordComesFromTheCallersEnvironmentAndIsNeverStored() throws Exception {
        Path hba = source.data().resolve("pg_hba.conf");
        String trusting = Files.readString(hba);
        source.execute("postgres", "CREATE ROLE secretive LOGIN REPLICATION PASSWORD 's3cr3t-pw'",
                "GRANT CONNECT ON DATABASE shop TO secretive");
        try {
            Files.writeString(hba, "local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                    + "host all all 127.0.0.1/32 scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n");
            source.execute("postgres", "SELECT pg_reload_conf()");
            Zenith.waitFor(java.time.Duration.ofSeconds(10), () -> refusesWithoutPassword("secretive"), "the source to reload pg_hba.conf");

            Zenith.Result refused = z.cliProcess(Map.of(), "import", source.uri("secretive", "shop"), "--as", "pw");
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.err()).contains("the source refused the password").contains("PGPASSWORD");

            Zenith.Result imported = z.cliProcess(Map.of("PGPASSWORD", "s3cr3t-pw"), "import", source.uri("secretive", "shop"),
                    "--as", "pw").ok();
            assertThat(imported.out()).contains("(physical, PostgreSQL 15");
            assertThat(query("pw", "shop", "SELECT count(*) FROM orders")).isEqualTo("5000");
        } finally {
            Files.writeString(hba, trusting);
            source.execute("postgres", "SELECT pg_reload_conf()");
        }
        try (Stream<Path> files = Files.walk(z.repo())) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.startsWith(z.repo().resolve("timelines"))
                    && !f.startsWith(z.repo().resolve("pgdatadirs"))).toList()) {
                assertThat(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1))
                        .as("%s", f).doesNotContain("s3cr3t-pw");
            }
        }
    }

    @Test
    void aSourceGoneAfterTheCheckAndADaemonKilledMidImportLeaveNothing() throws Exception {
        try (Zenith y = Zenith.started(); SourcePostgres doomed = SourcePostgres.start(SourcePostgres.DEBIAN_15)) {
            String before = y.cli("branch").ok().out();

            y.armFailpoint("import-asked");
            java.util.concurrent.CompletableFuture<Zenith.Result> importing = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> y.cli("import", doomed.uri("postgres", "postgres"), "--as", "gone"));
            y.awaitFailpoint("import-asked");
            doomed.stop();
            y.releaseFailpoints();
            Zenith.Result failed = importing.get();
            assertThat(failed.exit()).isEqualTo(1);
            assertThat(failed.err()).contains("cannot reach the source").contains("run the import again");
            assertThat(y.cli("branch").ok().out()).isEqualTo(before);
            assertThat(tmpIsEmpty(y)).isTrue();

            doomed.start();
            y.armFailpoint("import-copied");
            java.util.concurrent.CompletableFuture.runAsync(() -> y.cli("import", doomed.uri("postgres", "postgres"), "--as", "cut"));
            y.killDaemonAtFailpoint("import-copied");
            y.cli("pageserver", "start").ok();
            assertThat(y.cli("branch").ok().out()).isEqualTo(before);
            assertThat(tmpIsEmpty(y)).as("the daemon's start empties tmp/").isTrue();
            assertThat(y.cli("import", doomed.uri("postgres", "postgres"), "--as", "cut").ok().out()).contains("as branch cut");
        }
    }

    @Test
    void anImportedBranchIsPushedAndClonedAtItsOwnVersion() throws Exception {
        z.cli("import", source.uri("postgres", "shop"), "--as", "shared").ok();
        try (S3Server server = S3Server.start(); Zenith teammate = Zenith.empty()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                z.cli("remote", "add", "team", "s3://team/imports", "--endpoint", server.endpoint()).ok();
                z.cli("push", "shared", "--remote", "team").ok();
                java.util.List<String> clone = new java.util.ArrayList<>(java.util.List.of("clone", "s3://team/imports",
                        "--endpoint", server.endpoint()));
                clone.addAll(teammate.listenArgs());
                teammate.cli(clone.toArray(String[]::new)).ok();
                teammate.cli("pageserver", "start").ok();
                try (Connection c = DriverManager.getConnection(teammate.proxyUrl("branch%3Dshared").replace("/postgres?", "/shop?"));
                     Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                             "SELECT count(*) || ' ' || current_setting('server_version_num')::int / 10000 FROM orders")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("5000 15");
                }
            });
        }
    }

    @Test
    void aSourceOfAVersionZenithDoesNotRunIsImportedLogically() throws Exception {
        try (SourcePostgres older = SourcePostgres.start(SourcePostgres.postgres14())) {
            older.execute("postgres", "CREATE TABLE legacy AS SELECT g AS id FROM generate_series(1, 1234) g");
            JsonNode result = Json.MAPPER.readTree(z.cli("import", older.uri("postgres", "postgres"), "--as", "legacy",
                    "--json").ok().out());
            assertThat(result.path("method").asText()).isEqualTo("LOGICAL");
            assertThat(result.path("why").asText()).contains("runs PostgreSQL 14, which zenith does not run");
            assertThat(result.path("pgVersion").asInt()).isEqualTo(18);
            assertThat(query("legacy", "postgres", "SELECT count(*) FROM legacy")).isEqualTo("1234");

            Zenith.Result follow = z.cli("import", older.uri("postgres", "postgres"), "--as", "legacy2", "--follow");
            assertThat(follow.exit()).isEqualTo(2);
            assertThat(follow.err()).contains("--follow needs a physical copy").contains("PostgreSQL 14");
        }
    }

    @Test
    void aSourceNewerThanTheClientToolsIsRefusedNamingWhatToInstall() throws Exception {
        // zenith's own PostgreSQL 18 as the source; the client tools here are Debian's 15
        Path bin = dev.zenith.postgres.PgDistribution.resolve(null, 18, msg -> { }).bin();
        try (SourcePostgres newer = SourcePostgres.start(bin)) {
            Zenith.Result refused = z.cli("import", newer.uri("postgres", "postgres"), "--as", "newer");
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.err()).contains("is PostgreSQL 18, and the newest client tools here are 15")
                    .contains("apt-get install postgresql-client-18");
            assertThat(z.cli("branch").ok().out()).doesNotContain("newer");
            assertThat(tmpIsEmpty()).isTrue();
        }
    }

    private static boolean refusesWithoutPassword(String role) {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + source.port + "/shop?user=" + role)) {
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    private static String lastLsn(String branch) throws Exception {
        for (JsonNode b : Json.MAPPER.readTree(z.cli("branch", "--json").ok().out())) {
            if (b.path("name").asText().equals(branch)) {
                return b.path("lastLsn").asText();
            }
        }
        throw new AssertionError("no branch " + branch);
    }

    private static boolean tmpIsEmpty() throws Exception {
        return tmpIsEmpty(z);
    }

    private static boolean tmpIsEmpty(Zenith zenith) throws Exception {
        try (Stream<Path> left = Files.list(zenith.repo().resolve("tmp"))) {
            return left.noneMatch(p -> p.getFileName().toString().startsWith("import-"));
        }
    }

    private static String query(String branch, String database, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(z.proxyUrl("branch%3D" + branch).replace("/postgres?", "/" + database + "?"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void execute(String branch, String database, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(z.proxyUrl("branch%3D" + branch).replace("/postgres?", "/" + database + "?"));
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
