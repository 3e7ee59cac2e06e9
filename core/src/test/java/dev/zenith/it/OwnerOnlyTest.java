package dev.zenith.it;

import dev.zenith.api.ApiServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Only the repository's owner drives the daemon: another local user (nobody, through setpriv) cannot read
 * the API token, and every route of the API's table, the event stream, the console and the metrics refuse
 * a request without it and change nothing; the owner's console link works once.
 */
class OwnerOnlyTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void anotherUserCanNeitherReadTheTokenNorDriveAnyRoute() throws Exception {
        assumeTrue(isRoot(), "running as another user takes root");
        z.cli("branch", "victim", "main").ok();
        z.cli("tag", "kept", "victim").ok();
        z.start("victim");
        Map<String, String> branchesBefore = z.branches();

        Zenith.Result token = asNobody("cat", z.repo().resolve("api-token").toString());
        assertThat(token.exit()).as("nobody reads the token: " + token.out()).isNotZero();

        List<String> paths = new ArrayList<>();
        for (String endpoint : ApiServer.endpoints()) {
            String method = endpoint.substring(0, endpoint.indexOf(' '));
            String path = endpoint.substring(endpoint.indexOf(' ') + 1).replace("{name}", "victim").replace("{node}", "victim")
                    .replaceAll("\\{[a-z]+}", "victim");
            paths.add(method + " " + path);
        }
        paths.addAll(List.of("GET /v1/events", "GET /", "GET /index.html", "GET /console.js", "GET /metrics"));
        for (String request : paths) {
            String method = request.substring(0, request.indexOf(' '));
            String path = request.substring(request.indexOf(' ') + 1);
            Zenith.Result answer = asNobody("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "-X", method,
                    "-H", "Content-Type: application/json", "--data", method.equals("GET") ? "" : "{}",
                    "http://127.0.0.1:" + z.apiPort() + path);
            assertThat(answer.out()).as("nobody's " + request).isEqualTo("401");
        }
        assertThat(z.branches()).as("nothing changed").isEqualTo(branchesBefore);
        assertThat(z.api("GET", "/v1/tags", null).out()).contains("kept");
        assertThat(z.compute("victim").map(n -> n.path("state").asText())).hasValue("running");
        assertThat(z.cli("pageserver", "status").ok().out()).as("POST /v1/shutdown was refused").contains("running");
    }

    @Test
    void aConsoleLinkLogsInOnceAndTheCookieIsScriptProof() throws Exception {
        String link = z.consoleLink();
        assertThat(link).startsWith("http://127.0.0.1:" + z.apiPort() + "/console/login?code=");
        HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(link)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(303);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
        String session = cookie.substring(0, cookie.indexOf(';'));
        HttpResponse<String> state = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.apiPort() + "/v1/console"))
                .header("Cookie", session).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(state.statusCode()).as("the session opens the API").isEqualTo(200);
        HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(link)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).as("a used code").isEqualTo(401);
        assertThat(again.body()).contains("zenith console");
        HttpResponse<String> forged = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.apiPort() + "/v1/console"))
                .header("Cookie", "zenith_session=guessed").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(forged.body()).contains("api-token");
    }

    @Test
    void metricsArePublicOnlyWhenTheConfigSaysSo() throws Exception {
        try (Zenith open = Zenith.empty()) {
            open.init().ok();
            open.configure(Map.of("metricsPublic", true));
            open.cli("pageserver", "start").ok();
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.apiPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            HttpResponse<String> branches = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.apiPort() + "/v1/branches")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(branches.statusCode()).as("the rest stays the owner's").isEqualTo(401);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static Zenith.Result asNobody(String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
        cmd.addAll(List.of(command));
        return Zenith.run(new ProcessBuilder(cmd), Duration.ofSeconds(30));
    }
}
