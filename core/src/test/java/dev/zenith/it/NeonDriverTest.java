package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Apps on Neon's serverless driver against zenith: {@code neon()} over HTTP and {@code Pool}/{@code Client}
 * over WebSocket on the proxy's own port, from the real {@code @neondatabase/serverless}, {@code ws} and
 * Drizzle of npm, compared with node-postgres over TCP through the same proxy; and the endpoint's own
 * behaviour seen with a plain HTTP client: pooled backends, suspend, cold branches, the past, refusals.
 */
class NeonDriverTest {

    private static final String USER = System.getProperty("user.name");

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void neonOverHttpAnswersAsNodePostgresDoesOverTcp() throws Exception {
        NodeClients.assumeInstalled();
        NodeClients.Result r = NodeClients.node("neon-http.js", z.proxyPort(), USER, "", "main");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode seen = Json.MAPPER.readTree(r.out());
        assertThat(seen.get("viaHttp")).as("int8, numeric, json, bytea, timestamptz, arrays, NULL, bool, float8, text")
                .isEqualTo(seen.get("viaTcp"));
        assertThat(seen.at("/viaHttp/0/big").asText()).isEqualTo("9007199254740993");
        assertThat(seen.at("/viaHttp/0/bin/data").toString()).isEqualTo("[0,1,254,255]");
        assertThat(seen.at("/template/0/answer").asInt()).isEqualTo(43);
        assertThat(seen.at("/full/rows").toString()).isEqualTo("[[7,\"seven\"]]");
        assertThat(seen.at("/full/fields/0/dataTypeID").asInt()).as("int4").isEqualTo(23);
        assertThat(seen.at("/full/fields/1/dataTypeID").asInt()).as("text").isEqualTo(25);
        assertThat(seen.at("/full/command").asText()).isEqualTo("SELECT");
        assertThat(seen.at("/full/rowCount").asInt()).isEqualTo(1);
        assertThat(seen.at("/full/rowAsArray").asBoolean()).isTrue();
        assertThat(seen.at("/inTx/0/0/transaction_isolation").asText()).isEqualTo("repeatable read");
        assertThat(seen.at("/inTx/1/0/transaction_read_only").asText()).isEqualTo("on");
        assertThat(seen.at("/rolledBack/name").asText()).isEqualTo("NeonDbError");
        assertThat(seen.at("/rolledBack/code").asText()).isEqualTo("22012");
        assertThat(seen.at("/afterRollback/0/n").asInt()).as("a failed batch leaves nothing").isZero();
        assertThat(seen.at("/committed/1/0/v").asText()).isEqualTo("kept");
        assertThat(seen.at("/readOnlyWrite/code").asText()).isEqualTo("25006");
        assertThat(seen.at("/syntax/code").asText()).isEqualTo("42601");
        assertThat(seen.at("/syntax/position").asText()).isEqualTo("11");
        assertThat(seen.at("/missing/code").asText()).isEqualTo("42703");
    }

    @Test
    void poolAndClientOverWebSocketAndDrizzleOnBothTransports() throws Exception {
        NodeClients.assumeInstalled();
        NodeClients.Result r = NodeClients.node("neon-ws.js", z.proxyPort(), USER, "", "main");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode seen = Json.MAPPER.readTree(r.out());
        assertThat(seen.get("inside").asInt()).as("rows inside the open transaction").isEqualTo(2);
        assertThat(seen.get("outsideDuring").asInt()).as("another session before COMMIT").isZero();
        assertThat(seen.get("copied").toString()).as("COPY FROM STDIN of 1,000 rows").isEqualTo("{\"n\":1000,\"s\":499500}");
        assertThat(seen.get("processID").asInt()).as("the client's backend pid is the backend's")
                .isEqualTo(seen.get("pidSeen").asInt());
        assertThat(seen.get("payload").asText()).isEqualTo("over a websocket");
        assertThat(seen.get("notifierPid").asInt()).as("a notification names its sender's pid as the sender knows it")
                .isEqualTo(seen.get("senderPid").asInt());
        assertThat(seen.get("cancelled").asText()).as("a cancel over WebSocket").isEqualTo("57014");
        assertThat(seen.get("overHttp").toString()).isEqualTo("[{\"name\":\"bob\",\"age\":42}]");
        assertThat(seen.get("overWs").toString()).isEqualTo("[{\"name\":\"ann\",\"age\":32},{\"name\":\"bob\",\"age\":42}]");
    }

    @Test
    void theLinesConnstrPrintsForNeonWorkAsPasted() throws Exception {
        NodeClients.assumeInstalled();
        z.cli("branch", "pasted", "main").ok();
        String lines = z.cli("connstr", "pasted", "--format", "neon").ok().out().trim();
        assertThat(lines).contains(":" + z.proxyPort() + "/sql").contains("branch%3Dpasted");
        NodeClients.Result r = NodeClients.node("connstr-neon.js", lines);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("{\"two\":2,\"four\":4}");
        assertThat(state("pasted")).as("the printed string reached the branch").isEqualTo("running");
    }

    @Test
    void httpsAndWssUnderTlsOnTheSamePortBesidePostgresDirectTls() throws Exception {
        NodeClients.assumeInstalled();
        try (Zenith secure = Zenith.empty()) {
            secure.init("--tls").ok();
            secure.cli("pageserver", "start").ok();
            Map<String, String> selfSigned = Map.of("NODE_TLS_REJECT_UNAUTHORIZED", "0", "NODE_NO_WARNINGS", "1");
            String lines = secure.cli("connstr", "--format", "neon").ok().out().trim();
            assertThat(lines).contains("'https://127.0.0.1:" + secure.proxyPort() + "/sql'").contains("useSecureWebSocket = true");
            NodeClients.Result pasted = NodeClients.node(selfSigned, "connstr-neon.js", lines);
            assertThat(pasted.exit()).as(pasted.err()).isZero();
            assertThat(pasted.out()).isEqualTo("{\"two\":2,\"four\":4}");
            Map<String, String> tls = new java.util.HashMap<>(selfSigned);
            tls.put("ZENITH_TLS", "1");
            NodeClients.Result overTls = NodeClients.node(tls, "neon-ws.js", secure.proxyPort(), USER, "", "main");
            assertThat(overTls.exit()).as(overTls.err()).isZero();
            assertThat(Json.MAPPER.readTree(overTls.out()).get("cancelled").asText()).isEqualTo("57014");
            Psql.Result direct = Psql.run("host=127.0.0.1 port=" + secure.proxyPort() + " user=" + USER
                    + " dbname=postgres sslmode=require", Map.of(), "SELECT 'postgres over tls'");
            assertThat(direct.out()).as(direct.err()).isEqualTo("postgres over tls");
        }
    }

    @Test
    void sequentialQueriesShareOnePooledBackend() throws Exception {
        z.cli("branch", "pooled", "main").ok();
        post("pooled", "{\"query\":\"SELECT 1\"}");
        int port = z.port("pooled");
        long before = z.queryLong(port, "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'");
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> answer = post("pooled", "{\"query\":\"SELECT $1::int + 1 AS n\",\"params\":[" + i + "]}");
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(Json.MAPPER.readTree(answer.body()).at("/rows/0/n").asInt()).isEqualTo(i + 1);
        }
        long after = z.queryLong(port, "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'");
        assertThat(after - before).as("backends forked by 200 sequential HTTP queries (the check's own session is one)")
                .isLessThanOrEqualTo(2);
    }

    @Test
    void aPooledSessionIsResetBetweenRequests() throws Exception {
        post("main", "{\"query\":\"SET search_path TO nowhere\"}");
        HttpResponse<String> next = post("main", "{\"query\":\"SHOW search_path\"}");
        assertThat(Json.MAPPER.readTree(next.body()).at("/rows/0/search_path").asText()).isEqualTo("\"$user\", public");
    }

    @Test
    void idlePooledSessionsLetTheComputeSuspendAndTheNextQueryResumesIt() throws Exception {
        z.cli("branch", "napping", "main").ok();
        z.cli("pg", "create", "napping", "--idle-timeout", "1s").ok();
        assertThat(post("napping", "{\"query\":\"CREATE TABLE kept AS SELECT generate_series(1, 100) AS x\"}").statusCode()).isEqualTo(200);
        Zenith.waitFor(Duration.ofSeconds(60), () -> state("napping").equals("suspended"),
                "napping to be suspended while its pooled session sits idle");
        HttpResponse<String> again = post("napping", "{\"query\":\"SELECT count(*) AS n FROM kept\"}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(again.body()).at("/rows/0/n").asText()).isEqualTo("100");
        assertThat(state("napping")).isEqualTo("running");
    }

    @Test
    void aColdBranchStartsOnItsFirstRequestAndAPastPointIsReadOnly() throws Exception {
        z.cli("branch", "cold", "main").ok();
        assertThat(z.compute("cold")).as("no compute before the first request").isEmpty();
        post("cold", "{\"query\":\"CREATE TABLE t AS SELECT 1 AS x\"}");
        String lsn;
        try (Connection c = z.connectProxy("cold"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()")) {
            rs.next();
            lsn = rs.getString(1);
            s.execute("INSERT INTO t VALUES (2)");
        }
        HttpResponse<String> past = post("cold@" + lsn, "{\"query\":\"SELECT count(*)::int AS n FROM t\"}");
        assertThat(past.statusCode()).as(past.body()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(past.body()).at("/rows/0/n").asInt()).as("rows at " + lsn).isEqualTo(1);
        HttpResponse<String> write = post("cold@" + lsn, "{\"query\":\"INSERT INTO t VALUES (3)\"}");
        assertThat(write.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(write.body()).get("code").asText()).isEqualTo("25006");
    }

    @Test
    void badRequestsAreClearErrorsInNeonsShape() throws Exception {
        HttpResponse<String> noBranch = post("no_such_branch", "{\"query\":\"SELECT 1\"}");
        assertThat(noBranch.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(noBranch.body()).get("code").asText()).isEqualTo("3D000");
        assertThat(Json.MAPPER.readTree(noBranch.body()).get("message").asText()).contains("no_such_branch");

        HttpResponse<String> noConnection = send(HttpRequest.newBuilder(endpoint()).POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(noConnection.statusCode()).isEqualTo(400);
        assertThat(noConnection.body()).contains("Neon-Connection-String");

        HttpResponse<String> notJson = post("main", "SELECT 1");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("not JSON");

        HttpResponse<String> twoStatements = post("main", "{\"query\":\"SELECT 1; SELECT 2\"}");
        assertThat(Json.MAPPER.readTree(twoStatements.body()).get("code").asText()).isEqualTo("42601");

        HttpResponse<String> isolation = send(request("main").header("Neon-Batch-Isolation-Level", "Chaos")
                .POST(HttpRequest.BodyPublishers.ofString("{\"queries\":[{\"query\":\"SELECT 1\"}]}")));
        assertThat(isolation.statusCode()).isEqualTo(400);
        assertThat(isolation.body()).contains("Chaos");

        HttpResponse<String> huge = post("main", "{\"query\":\"SELECT $1\",\"params\":[\"" + "x".repeat(11 * 1024 * 1024) + "\"]}");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(huge.body()).contains("larger than");

        HttpResponse<String> tooMany = post("main", "{\"query\":\"SELECT repeat('x', 1000) FROM generate_series(1, 20000)\"}");
        assertThat(tooMany.statusCode()).isEqualTo(507);
        assertThat(tooMany.body()).contains("too large");
        assertThat(post("main", "{\"query\":\"SELECT 1 AS one\"}").statusCode()).as("the session still serves").isEqualTo(200);

        HttpResponse<String> elsewhere = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.proxyPort() + "/nowhere")).GET());
        assertThat(elsewhere.statusCode()).isEqualTo(404);
    }

    @Test
    void pagesOfOtherOriginsAreRefusedUnlessConfigured() throws Exception {
        HttpResponse<String> refused = send(request("main").header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"SELECT 1\"}")));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("proxyHttpOrigins").contains("evil.example");

        try (Zenith open = Zenith.empty()) {
            open.init().ok();
            open.configure(Map.of("proxyHttpOrigins", java.util.List.of("http://localhost:3000")));
            open.cli("pageserver", "start").ok();
            URI sql = URI.create("http://127.0.0.1:" + open.proxyPort() + "/sql");
            HttpResponse<String> preflight = send(HttpRequest.newBuilder(sql).header("Origin", "http://localhost:3000")
                    .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertThat(preflight.statusCode()).isEqualTo(204);
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("")).contains("Neon-Connection-String");
            HttpResponse<String> allowed = send(HttpRequest.newBuilder(sql).header("Origin", "http://localhost:3000")
                    .header("Neon-Connection-String", "postgresql://" + USER + "@localhost/postgres")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"SELECT 1 AS one\"}")));
            assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
            assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).hasValue("http://localhost:3000");
        }
    }

    @Test
    void passwordModeChecksTheConnectionStringsPasswordOnBothTransports() throws Exception {
        NodeClients.assumeInstalled();
        try (Zenith secure = Zenith.empty()) {
            Path passwordFile = secure.dir().resolve("password.txt");
            Files.writeString(passwordFile, "s3cret: with spaces & more");
            secure.init("--auth", "password", "--password-file", passwordFile.toString()).ok();
            secure.cli("pageserver", "start").ok();
            NodeClients.Result right = NodeClients.node("neon-ws.js", secure.proxyPort(), USER, "s3cret: with spaces & more", "main");
            assertThat(right.exit()).as(right.err()).isZero();
            assertThat(Json.MAPPER.readTree(right.out()).get("cancelled").asText()).isEqualTo("57014");
            NodeClients.Result wrong = NodeClients.node("neon-http.js", secure.proxyPort(), USER, "guess", "main");
            assertThat(wrong.exit()).isNotZero();
            assertThat(wrong.err()).contains("code 28P01");
            NodeClients.Result wrongOverWebSocket = NodeClients.node("neon-ws.js", secure.proxyPort(), USER, "guess", "main");
            assertThat(wrongOverWebSocket.exit()).isNotZero();
            assertThat(wrongOverWebSocket.err()).contains("code 28P01");
        }
    }

    private HttpResponse<String> post(String branch, String body) throws Exception {
        return send(request(branch).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpRequest.Builder request(String branch) {
        String options = URLEncoder.encode("branch=" + branch, StandardCharsets.UTF_8);
        return HttpRequest.newBuilder(endpoint())
                .header("Neon-Connection-String", "postgresql://" + USER + "@localhost/postgres?options=" + options)
                .timeout(Duration.ofSeconds(120));
    }

    private URI endpoint() {
        return URI.create("http://127.0.0.1:" + z.proxyPort() + "/sql");
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String state(String branch) {
        return z.compute(branch).map(n -> n.get("state").asText()).orElse("none");
    }
}
