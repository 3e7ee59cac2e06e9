package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The seed's proposal: connect to the proxy naming a branch, Postgres starts on demand and stops when idle. */
class ProxyTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    @Test
    void seedTranscriptThroughPsqlOverTcpAndUnixSocket() throws Exception {
        Psql.assumeInstalled();
        z.cli("branch", "heikki", "main").ok();
        String tcp = "dbname=postgres host=127.0.0.1 port=" + z.proxyPort() + " options=branch=heikki sslmode=prefer gssencmode=prefer";
        Psql.Result r = Psql.run(tcp, Map.of(), "CREATE TABLE seed (x int)", "INSERT INTO seed VALUES (42)", "SELECT x FROM seed");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).endsWith("42");
        String unix = "dbname=postgres host=" + z.dir() + " port=" + z.proxyPort() + " options=branch=heikki";
        Psql.Result viaSocket = Psql.run(unix, Map.of(), "SELECT x FROM seed");
        assertThat(viaSocket.exit()).as(viaSocket.err()).isZero();
        assertThat(viaSocket.out()).isEqualTo("42");
        // the URI form and PGOPTIONS reach the same branch
        Psql.Result uri = Psql.run("postgresql://127.0.0.1:" + z.proxyPort() + "/postgres?options=branch%3Dheikki",
                Map.of(), "SELECT x FROM seed");
        assertThat(uri.out()).isEqualTo("42");
        Psql.Result env = Psql.run("dbname=postgres host=127.0.0.1 port=" + z.proxyPort(),
                Map.of("PGOPTIONS", "--branch=heikki"), "SELECT x FROM seed");
        assertThat(env.out()).isEqualTo("42");
    }

    @Test
    void pgjdbcOnANewBranchAndEveryWayOfNamingIt() throws Exception {
        z.cli("branch", "jdbc_branch", "main").ok();
        try (Connection c = z.connectProxy("jdbc_branch"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE via_jdbc (x int)");
            s.execute("INSERT INTO via_jdbc VALUES (7)");
        }
        for (String options : List.of("branch%3Djdbc_branch", "-c%20branch%3Djdbc_branch", "--branch%3Djdbc_branch",
                "-cbranch%3Djdbc_branch")) {
            try (Connection c = DriverManager.getConnection(z.proxyUrl(options)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT x FROM via_jdbc")) {
                assertThat(rs.next()).as(options).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
        }
        // a startup parameter literally named branch (drivers that send arbitrary parameters)
        try (RawClient raw = RawClient.connect(z.proxyPort())) {
            raw.startup(3, 0, Map.of("user", System.getProperty("user.name"), "database", "postgres", "branch", "jdbc_branch"));
            assertThat(raw.readUntilReady()).containsKey('Z');
            assertThat(raw.simpleQuery("SELECT x FROM via_jdbc")).isEqualTo("7");
        }
        // the data is on the branch's compute, not on main's
        assertThat(z.queryLong(z.port("jdbc_branch"), "SELECT count(*) FROM via_jdbc")).isEqualTo(1);
    }

    @Test
    void bulkCopiesBothWaysArriveByteForByteOnConcurrentSessions() throws Exception {
        z.cli("branch", "bulk", "main").ok();
        // 4 sessions at once, each 16 MB in and out: more than the relay's buffers and the sockets'
        // queues hold, so both directions go through back pressure on the shared event loop
        assertThat(Race.run(4, session -> bulkRoundTrip("bulk_" + session, 160_000))).isEmpty();
    }

    private static void bulkRoundTrip(String table, int rows) throws Exception {
        StringBuilder text = new StringBuilder(rows * 104);
        for (int i = 0; i < rows; i++) {
            text.append(i).append('\t').append("%08x".formatted(i * 31).repeat(12), 0, 90).append('\n');
        }
        byte[] sent = text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (Connection c = z.connectProxy("bulk"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id int, pad text)");
            var copy = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
            assertThat(copy.copyIn("COPY " + table + " FROM STDIN", new java.io.ByteArrayInputStream(sent))).isEqualTo(rows);
            var received = new java.io.ByteArrayOutputStream(sent.length);
            copy.copyOut("COPY (SELECT * FROM " + table + " ORDER BY id) TO STDOUT", received);
            assertThat(received.toByteArray()).as("COPY OUT of " + table).isEqualTo(sent);
        }
    }

    @Test
    void noBranchMeansMainAndOtherOptionsPassThrough() throws Exception {
        z.start("main");
        try (Connection c = DriverManager.getConnection(z.proxyUrl("-c%20search_path%3Dfoo,public%20-c%20branch%3Dmain%20-c%20work_mem%3D5MB"));
             Statement s = c.createStatement()) {
            assertThat(value(s, "SHOW search_path")).isEqualTo("foo,public");
            assertThat(value(s, "SHOW work_mem")).isEqualTo("5MB");
            assertThat(value(s, "SHOW port")).isEqualTo(Integer.toString(z.port("main")));
        }
        try (Connection c = z.connectProxy(null); Statement s = c.createStatement()) {
            assertThat(value(s, "SHOW port")).isEqualTo(Integer.toString(z.port("main")));
        }
    }

    @Test
    void fiftyClientsRacingToAColdBranchCauseOneStart() throws Exception {
        z.cli("branch", "storm", "main").ok();
        Set<String> startTimes = ConcurrentHashMap.newKeySet();
        assertThat(Race.run(50, i -> {
            try (Connection c = z.connectProxy("storm"); Statement s = c.createStatement()) {
                startTimes.add(value(s, "SELECT pg_postmaster_start_time()::text"));
            }
        })).isEmpty();
        assertThat(startTimes).hasSize(1);
    }

    @Test
    void aClientLeavingDuringTheStartDoesNotBreakIt() throws Exception {
        z.cli("branch", "leaver", "main").ok();
        try (RawClient raw = RawClient.connect(z.proxyPort())) {
            raw.startup(3, 0, Map.of("user", System.getProperty("user.name"), "database", "postgres", "options", "branch=leaver"));
        }
        try (Connection c = z.connectProxy("leaver"); Statement s = c.createStatement()) {
            assertThat(value(s, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void idleComputeIsSuspendedAndTheNextConnectionResumesItWithItsData() throws Exception {
        z.cli("branch", "sleepy", "main").ok();
        z.cli("pg", "create", "sleepy", "--idle-timeout", "1s").ok();
        try (Connection c = z.connectProxy("sleepy"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kept AS SELECT generate_series(1, 1000) AS x");
        }
        Zenith.waitFor(Duration.ofSeconds(60), () -> state("sleepy").equals("suspended"), "sleepy to be suspended");
        try (Connection c = z.connectProxy("sleepy"); Statement s = c.createStatement()) {
            assertThat(value(s, "SELECT count(*) FROM kept")).isEqualTo("1000");
            assertThat(state("sleepy")).isEqualTo("running");
        }
    }

    @Test
    void aDirectConnectionKeepsTheComputeAwake() throws Exception {
        z.cli("branch", "watched", "main").ok();
        z.cli("pg", "create", "watched", "--idle-timeout", "1s").ok();
        try (Connection c = z.connectProxy("watched"); Statement s = c.createStatement()) {
            value(s, "SELECT 1");
        }
        try (Connection direct = z.connect(z.port("watched"))) {
            long checks = idleChecks();
            Zenith.waitFor(Duration.ofSeconds(60), () -> idleChecks() >= checks + 3, "three idle checks");
            JsonNode node = node("watched");
            assertThat(node.get("state").asText()).isEqualTo("running");
            assertThat(node.get("connections").asInt()).isEqualTo(1);
            assertThat(direct.isValid(5)).isTrue();
        }
        Zenith.waitFor(Duration.ofSeconds(60), () -> state("watched").equals("suspended"), "watched to be suspended");
    }

    @Test
    void cancelThroughTheProxyStopsTheRunningQuery() throws Exception {
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            int port = z.port("main");
            SQLException error = Zenith.cancelWhileRunning(s, "SELECT pg_sleep(60)", () -> sleeping(port) == 1);
            assertThat((Throwable) error).isNotNull();
            assertThat(error.getSQLState()).isEqualTo("57014");
        }
    }

    @Test
    void aClientIsToldItsBackendsRealPid() throws Exception {
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            int pid = Integer.parseInt(value(s, "SELECT pg_backend_pid()"));
            assertThat(c.unwrap(org.postgresql.PGConnection.class).getBackendPID()).isEqualTo(pid);
            try (Connection other = z.connectProxy("main"); Statement o = other.createStatement()) {
                int told = other.unwrap(org.postgresql.PGConnection.class).getBackendPID();
                SQLException ended = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> value(o, "SELECT pg_terminate_backend(" + told + ")"));
                assertThat(ended.getSQLState()).as("a session ends itself by the pid it was told").isEqualTo("57P01");
            }
        }
    }

    @Test
    void protocol32CancelKeysAreVariableLengthAndMapped() throws Exception {
        z.start("main");
        try (RawClient raw = RawClient.connect(z.proxyPort())) {
            raw.startup(3, 2, Map.of("user", System.getProperty("user.name"), "database", "postgres"));
            Map<Character, byte[]> messages = raw.readUntilReady();
            byte[] keyData = messages.get('K');
            assertThat(keyData.length - 4).as("protocol 3.2 key length").isGreaterThan(4);
            int port = z.port("main");
            raw.sendQuery("SELECT pg_sleep(60)");
            Zenith.waitFor(Duration.ofSeconds(30), () -> sleeping(port) == 1, "the query to run");
            try (RawClient cancel = RawClient.connect(z.proxyPort())) {
                cancel.cancel(keyData);
            }
            assertThat(raw.readError()).containsEntry('C', "57014");
        }
    }

    @Test
    void errorsAreErrorResponsesWithFittingSqlStates() throws Exception {
        PSQLException missing = proxyError("no_such_branch");
        assertThat(missing.getSQLState()).isEqualTo("3D000");
        assertThat(missing.getServerErrorMessage().getMessage()).isEqualTo("branch \"no_such_branch\" does not exist");
        assertThat(missing.getServerErrorMessage().getHint()).isEqualTo("zenith branch no_such_branch main");

        PSQLException invalid = proxyError("bad/name");
        assertThat(invalid.getSQLState()).isEqualTo("42602");
        assertThat(invalid.getServerErrorMessage().getMessage()).contains("invalid branch name \"bad/name\"");

        z.cli("branch", "broken", "main").ok();
        z.cli("pg", "create", "broken", "--name", "brokenpg").ok();
        java.nio.file.Files.writeString(z.repo().resolve("pgdatadirs/brokenpg/postgresql.conf"), "\nno_such_setting = 1\n",
                java.nio.file.StandardOpenOption.APPEND);
        PSQLException failed = proxyError("broken");
        assertThat(failed.getSQLState()).isEqualTo("58000");
        assertThat(failed.getServerErrorMessage().getHint()).contains("compute-brokenpg.log");
        z.cli("pg", "stop", "broken", "--destroy").ok();
    }

    @Test
    void mutatedStartupPacketsNeverHangOrCrashTheProxyWhileOthersQuery() throws Exception {
        z.start("main");
        byte[] valid = RawClient.startupPacket(3, 0, Map.of("user", System.getProperty("user.name"), "database", "postgres",
                "options", "branch=main"));
        java.util.Random random = new java.util.Random(20261124);
        java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicReference<Throwable> honestFailure = new AtomicReference<>();
        Thread honest = Thread.ofPlatform().start(() -> {
            try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
                while (!stop.get()) {
                    assertThat(value(s, "SELECT 41 + 1")).isEqualTo("42");
                    served.incrementAndGet();
                }
            } catch (Throwable e) {
                honestFailure.set(e);
            }
        });
        int attempts = 300;
        for (int i = 0; i < attempts; i++) {
            byte[] packet = mutate(valid, random);
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", z.proxyPort())) {
                socket.setSoTimeout(20_000);
                socket.getOutputStream().write(packet);
                socket.shutdownOutput(); // all it will ever send: the proxy must answer or close, not wait
                try {
                    socket.getInputStream().readAllBytes();
                } catch (java.net.SocketException reset) {
                    // closed on us: an answer too
                }
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("the proxy hung on packet " + java.util.HexFormat.of().formatHex(packet), e);
            }
        }
        stop.set(true);
        honest.join();
        assertThat(honestFailure.get()).isNull();
        assertThat(served.get()).isPositive();
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            assertThat(value(s, "SELECT 1")).isEqualTo("1");
        }
    }

    /** A valid startup message with a few random bit flips, byte changes, cuts or insertions. */
    private static byte[] mutate(byte[] valid, java.util.Random random) {
        byte[] b = valid.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            switch (random.nextInt(5)) {
                case 0 -> b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                case 2 -> b = java.util.Arrays.copyOf(b, 1 + random.nextInt(b.length));
                case 3 -> {
                    byte[] longer = java.util.Arrays.copyOf(b, b.length + 1 + random.nextInt(64));
                    for (int i = b.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt(256);
                    }
                    b = longer;
                }
                default -> b[random.nextInt(Math.min(8, b.length))] = (byte) random.nextInt(256); // the header
            }
        }
        return b;
    }

    @Test
    void aClientThatNeverFinishesItsStartupIsClosed() throws Exception {
        Zenith quick = Zenith.empty();
        try {
            quick.init().ok();
            quick.configure(Map.of("proxyStartupTimeout", "1s"));
            quick.cli("pageserver", "start").ok();
            try (RawClient silent = RawClient.connect(quick.proxyPort())) {
                // as Postgres does when its authentication_timeout passes first: closed without a word
                assertThat(silent.readToEnd()).isEmpty();
            }
        } finally {
            quick.close();
        }
    }

    @Test
    void atTheComputeLimitTheLeastRecentlyUsedIdleOneMakesRoomElse53300() throws Exception {
        Zenith small = Zenith.empty();
        try {
            small.init("--max-computes", "2").ok();
            small.cli("pageserver", "start").ok();
            small.cli("branch", "a", "main").ok();
            small.cli("branch", "b", "main").ok();
            for (String b : List.of("main", "a")) {
                try (Connection c = small.connectProxy(b)) {
                    assertThat(c.isValid(5)).isTrue();
                }
            }
            try (Connection busy = small.connect(small.port("a"))) {
                try (Connection c = small.connectProxy("b")) {
                    assertThat(c.isValid(5)).isTrue();
                }
                assertThat(small.compute("main").orElseThrow().path("state").asText()).isEqualTo("suspended");
                try (Connection holdB = small.connect(small.port("b"))) {
                    assertThatThrownBy(() -> small.connectProxy("main")).isInstanceOfSatisfying(PSQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("53300");
                        assertThat(e.getServerErrorMessage().getMessage()).contains("maxComputes is 2");
                        assertThat(e.getServerErrorMessage().getHint()).contains("raise maxComputes");
                    });
                }
            }
        } finally {
            small.close();
        }
    }

    @Test
    void aProxyPortInUseIsAClearErrorAndNothingHalfStarts() throws Exception {
        Zenith other = Zenith.empty();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            other.init().ok();
            Zenith.Result r = other.cli("pageserver", "start", "--proxy-port", Integer.toString(taken.getLocalPort()));
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("port " + taken.getLocalPort() + " (the proxy) is held by java (pid "
                    + ProcessHandle.current().pid() + ")").contains("--proxy-port");
            assertThat(other.daemonPid()).isEmpty();
        } finally {
            other.close();
        }
    }

    @Test
    void tlsWithASelfSignedCertificateMakesSslmodeRequireWork() throws Exception {
        assertThatThrownBy(() -> DriverManager.getConnection(z.proxyUrl(null) + "&sslmode=require"))
                .isInstanceOf(PSQLException.class).hasMessageContaining("does not support SSL");
        Zenith secure = Zenith.empty();
        try {
            secure.init().ok();
            secure.cli("pageserver", "start", "--tls").ok();
            try (Connection c = DriverManager.getConnection(secure.proxyUrl(null) + "&sslmode=require");
                 Statement s = c.createStatement()) {
                assertThat(value(s, "SELECT 1")).isEqualTo("1");
                assertThat(((org.postgresql.PGConnection) c).getParameterStatus("server_version")).startsWith("18");
            }
            Psql.assumeInstalled();
            Psql.Result r = Psql.run("host=127.0.0.1 port=" + secure.proxyPort() + " dbname=postgres sslmode=require",
                    Map.of(), "\\conninfo");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("SSL connection");
        } finally {
            secure.close();
        }
    }

    private static PSQLException proxyError(String branch) {
        try (Connection c = z.connectProxy(branch)) {
            throw new AssertionError("connected to " + branch);
        } catch (PSQLException e) {
            return e;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static String value(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long sleeping(int port) {
        try {
            return z.queryLong(port, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'");
        } catch (SQLException e) {
            return -1;
        }
    }

    private static JsonNode node(String branch) {
        return z.compute(branch).orElseThrow(() -> new AssertionError("no node for " + branch));
    }

    private static String state(String branch) {
        return node(branch).get("state").asText();
    }

    private static long idleChecks() {
        try {
            return Json.MAPPER.readTree(z.cli("pageserver", "status", "--json").ok().out()).get("idleChecks").asLong();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
