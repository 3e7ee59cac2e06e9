package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Through the proxy exactly as direct: each case runs against a branch's compute itself and through the
 * proxy, and must come out the same. The proxy here offers TLS ({@code pageserver start --tls}).
 */
class ProxyAsPostgresTest {

    private static final String USER = System.getProperty("user.name");
    private static Zenith z;
    private static int compute;

    @BeforeAll
    static void setUp() {
        z = Zenith.empty();
        z.init().ok();
        z.cli("pageserver", "start", "--tls").ok();
        compute = z.start("main");
    }

    @AfterAll
    static void tearDown() {
        z.close();
    }

    @Test
    void startupPacketsPostgresWillNotTakeAreAnsweredAsPostgresAnswersThem() throws Exception {
        byte[] valid = RawClient.startupPacket(3, 0, Map.of("user", USER, "database", "postgres"));
        Map<String, byte[]> packets = new LinkedHashMap<>();
        packets.put("Terminate before the startup message", concat(new byte[] {'X', 0, 0, 0, 4}, valid));
        packets.put("shorter than a header", new byte[] {0, 0, 0, 3});
        packets.put("over the 10,000-byte limit", new byte[] {0, 0, 0x4e, 0x20, 0, 3, 0, 0});
        packets.put("cut short by the end of the connection", new byte[] {0, 0, 0, 100, 0, 3, 0, 0});
        packets.put("protocol 9.9", new byte[] {0, 0, 0, 8, 0, 9, 0, 9});
        packets.put("protocol 2.0", new byte[] {0, 0, 0, 8, 0, 2, 0, 0});
        packets.put("no user", RawClient.startupPacket(3, 0, Map.of("database", "postgres")));
        packets.put("no terminator", new byte[] {0, 0, 0, 12, 0, 3, 0, 0, 'u', 's', 'e', 'r'});
        Map<String, String> direct = new LinkedHashMap<>();
        Map<String, String> proxied = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> p : packets.entrySet()) {
            direct.put(p.getKey(), RawClient.outcome(answer(compute, p.getValue())));
            proxied.put(p.getKey(), RawClient.outcome(answer(z.proxyPort(), p.getValue())));
        }
        assertThat(proxied).isEqualTo(direct);
        assertThat(proxied).containsEntry("Terminate before the startup message", "closed without a word")
                .containsEntry("no user", "ErrorResponse 28000").containsEntry("protocol 9.9", "ErrorResponse 0A000");
        try (Connection c = z.connectProxy("main")) {
            assertThat(c.isValid(5)).as("served after all that").isTrue();
        }
    }

    /** What a server sends back to {@code packet} from a client that then ends its side, up to the close. */
    private static byte[] answer(int port, byte[] packet) throws Exception {
        try (RawClient raw = RawClient.connect(port)) {
            raw.send(packet);
            raw.shutdownOutput();
            return raw.readToEnd();
        }
    }

    @Test
    void thePostgresRoleToolsExpectIsASuperuser() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + z.proxyPort() + "/postgres?user=postgres");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("postgres");
            assertThat(rs.getBoolean(2)).isTrue();
        }
        Psql.assumeInstalled();
        Psql.Result r = Psql.run("postgresql://postgres@127.0.0.1:" + z.proxyPort() + "/postgres", Map.of(), "SELECT current_user");
        assertThat(r.out()).as(r.err()).isEqualTo("postgres");
    }

    @Test
    void nodePostgresConnectingAndEndingInOneTickMeetsNoErrorThroughTheProxy() throws Exception {
        NodeClients.assumeInstalled();
        for (int port : new int[] {compute, z.proxyPort()}) {
            NodeClients.Result r = NodeClients.node("connect-and-end.js", port, USER, "", 40);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).as("port %d: %s", port, r.err()).isEqualTo("{\"unhandled\":0}");
        }
    }

    @Test
    void nodePostgresPoolQueriesAndNotifiesThroughTheProxy() throws Exception {
        NodeClients.assumeInstalled();
        for (int port : new int[] {compute, z.proxyPort()}) {
            NodeClients.Result r = NodeClients.node("pool.js", port, USER, "");
            assertThat(r.exit()).as(r.err()).isZero();
            JsonNode seen = Json.MAPPER.readTree(r.out());
            assertThat(seen.path("total").asInt()).as("the sum of 1 to 20").isEqualTo(210);
            assertThat(seen.path("payload").asText()).isEqualTo("hello from a pooled session");
        }
    }

    @Test
    void aStalledScramExchangeEndsWithItsBackendAndTheComputeThenSuspends() throws Exception {
        try (Zenith secure = Zenith.empty()) {
            Path passwordFile = secure.dir().resolve("password.txt");
            Files.writeString(passwordFile, "stalled but sure");
            secure.init("--auth", "password", "--password-file", passwordFile.toString(), "--idle-timeout", "2s").ok();
            secure.cli("pageserver", "start").ok();
            String url = secure.proxyUrl(null) + "&password=stalled%20but%20sure";
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET authentication_timeout = '2s'");
                s.execute("SELECT pg_reload_conf()");
            }
            try (RawClient stalled = RawClient.connect(secure.proxyPort())) {
                stalled.startup(3, 0, Map.of("user", USER, "database", "postgres"));
                assertThat(stalled.readAuthenticationCode()).as("SASL").isEqualTo(10);
                long started = System.nanoTime();
                // the client says nothing more: the backend gives up after authentication_timeout and closes
                assertThat(stalled.readToEnd()).as("what the compute said: nothing").isEmpty();
                assertThat(Duration.ofNanos(System.nanoTime() - started)).as("closed with its backend, not at the socket's timeout")
                        .isLessThan(Duration.ofSeconds(50));
            }
            Zenith.waitFor(Duration.ofSeconds(60), () -> secure.compute("main").map(n -> n.path("state").asText())
                    .orElse("").equals("suspended"), "the compute to suspend once the stalled client was gone");
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(c.isValid(5)).as("resumed").isTrue();
            }
        }
    }

    @Test
    void directTlsWithAlpnPostgresqlIsServedBesideTheSslRequest() throws Exception {
        try (RawClient tls = RawClient.connectDirectTls(z.proxyPort(), "postgresql")) {
            tls.startup(3, 0, Map.of("user", USER, "database", "postgres"));
            assertThat(tls.readUntilReady()).containsKey('Z');
            assertThat(tls.simpleQuery("SELECT 40 + 2")).isEqualTo("42");
        }
        try (RawClient noAlpn = RawClient.connectDirectTls(z.proxyPort(), null)) {
            noAlpn.startup(3, 0, Map.of("user", USER, "database", "postgres"));
            assertThat(new String(noAlpn.readToEnd(), java.nio.charset.StandardCharsets.UTF_8))
                    .as("direct TLS without ALPN gets no Postgres session, as from Postgres: for the proxy it is https"
                            + " (wss clients name no ALPN), and a startup packet is no HTTP request")
                    .startsWith("HTTP/1.1 400").contains("ALPN");
        }
        for (String negotiation : new String[] {"direct", "postgres"}) {
            try (Connection c = DriverManager.getConnection(z.proxyUrl(null) + "&sslmode=require&sslNegotiation=" + negotiation);
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("the compute's side is a Unix socket").isFalse();
                assertThat(c.isValid(5)).as(negotiation).isTrue();
            }
        }
        Psql.assumeInstalled();
        Psql.Result r = Psql.run("host=127.0.0.1 port=" + z.proxyPort() + " dbname=postgres sslmode=require", Map.of(), "SELECT 1");
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void cancelUnderTlsStopsTheRunningQuery() throws Exception {
        try (Connection c = DriverManager.getConnection(z.proxyUrl(null) + "&sslmode=require&sslNegotiation=direct");
             Statement s = c.createStatement()) {
            SQLException error = Zenith.cancelWhileRunning(s, "SELECT pg_sleep(60)", () -> sleeping() == 1);
            assertThat((Throwable) error).isNotNull();
            assertThat(error.getSQLState()).isEqualTo("57014");
        }
    }

    private static long sleeping() {
        try {
            return z.queryLong(compute, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'");
        } catch (SQLException e) {
            return -1;
        }
    }

    @Test
    void aClientThatHalfClosesAfterAQueryStillGetsItsResult() throws Exception {
        List<String> answers = new ArrayList<>();
        for (int port : new int[] {compute, z.proxyPort()}) {
            try (RawClient raw = RawClient.connect(port)) {
                answers.add(queryThenHalfClose(raw));
            }
        }
        try (RawClient tls = RawClient.connectDirectTls(z.proxyPort(), "postgresql")) {
            answers.add(queryThenHalfClose(tls));
        }
        assertThat(answers).as("directly, through the proxy, through the proxy with TLS")
                .containsOnly("42 then CommandComplete and ReadyForQuery");
    }

    private static String queryThenHalfClose(RawClient raw) throws Exception {
        raw.startup(3, 0, Map.of("user", USER, "database", "postgres"));
        raw.readUntilReady();
        raw.sendQuery("SELECT 42 FROM pg_sleep(0.3)");
        raw.shutdownOutput();
        return RawClient.describe(raw.readToEnd());
    }

    @Test
    void listenAndNotifyAcrossTwoSessionsThroughTheProxy() throws Exception {
        try (Connection listener = z.connectProxy("main"); Connection notifier = z.connectProxy("main");
             Statement l = listener.createStatement(); Statement n = notifier.createStatement()) {
            l.execute("LISTEN deployments");
            n.execute("NOTIFY deployments, 'v2 is out'");
            PGNotification[] heard = listener.unwrap(PGConnection.class).getNotifications(30_000);
            assertThat(heard).extracting(PGNotification::getParameter).containsExactly("v2 is out");
        }
    }

    @Test
    void pgbenchInExtendedAndPreparedModesAsDirectly() throws Exception {
        Psql.assumeInstalled();
        z.cli("branch", "bench", "main").ok();
        int benchPort = z.start("bench");
        assertThat(pgbench(benchPort, Map.of(), "-i", "-s", "1", "-q").exit()).isZero();
        for (String mode : new String[] {"extended", "prepared"}) {
            for (boolean viaProxy : new boolean[] {false, true}) {
                int port = viaProxy ? z.proxyPort() : benchPort;
                Zenith.Result r = pgbench(port, viaProxy ? Map.of("PGOPTIONS", "--branch=bench") : Map.of(),
                        "-n", "-M", mode, "-c", "2", "-t", "100");
                assertThat(r.exit()).as(mode + (viaProxy ? " through the proxy: " : " directly: ") + r.err()).isZero();
                assertThat(r.out()).contains("number of transactions actually processed: 200/200")
                        .contains("number of failed transactions: 0");
            }
        }
        assertThat(z.queryLong(benchPort, "SELECT count(*) FROM pgbench_history")).isEqualTo(800);
    }

    private static Zenith.Result pgbench(int port, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER));
        cmd.addAll(List.of(args));
        cmd.add("postgres");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(env);
        return Zenith.run(pb, Duration.ofMinutes(2));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }
}
