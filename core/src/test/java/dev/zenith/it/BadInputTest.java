package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input on the HTTP API and the CLI: every request is refused with a 4xx and a JSON error (exit 2
 * for the CLI), never a 500, and nothing outside the repository is touched. Requests go over a raw
 * socket so that any header and any byte can be sent.
 */
class BadInputTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    record Answer(int status, String body) {
    }

    /** One HTTP/1.1 request as given, as the repository's owner (with the API token); the answer's status and body. */
    static Answer http(String method, String path, String host, List<String> headers, byte[] body) throws IOException {
        List<String> owner = new java.util.ArrayList<>(headers);
        owner.add("Authorization: Bearer " + z.apiToken());
        return anonymous(method, path, host, owner, body);
    }

    /** One HTTP/1.1 request exactly as given, with no token. */
    static Answer anonymous(String method, String path, String host, List<String> headers, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", z.apiPort())) {
            s.setSoTimeout(30_000);
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            if (host != null) {
                head.append("Host: ").append(host).append("\r\n");
            }
            headers.forEach(h -> head.append(h).append("\r\n"));
            head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(body);
            } catch (IOException e) {
                // the server may answer and close before taking a huge body: its answer is what counts
            }
            out.flush();
            InputStream in = s.getInputStream();
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(text.substring(9, 12));
            int split = text.indexOf("\r\n\r\n");
            return new Answer(status, split < 0 ? "" : text.substring(split + 4));
        }
    }

    static Answer post(String path, String json) throws IOException {
        return http("POST", path, local(), List.of("Content-Type: application/json"), json.getBytes(StandardCharsets.UTF_8));
    }

    static String local() {
        return "127.0.0.1:" + z.apiPort();
    }

    static void assertRefused(Answer a, String what) throws IOException {
        assertThat(a.status()).as(what + ": " + a.body()).isBetween(400, 499);
        JsonNode error = Json.MAPPER.readTree(a.body());
        assertThat(error.path("error").asText()).as(what).isNotBlank();
    }

    static final List<String> BAD_NAMES = List.of("../escape", "a/b", "a\u0000b", "x".repeat(1000), "", " ", "-lead",
            "..", "ok\nname", "é");

    @Test
    void malformedRequestsAreRefusedWithAJsonErrorAndTouchNothingOutsideTheRepository() throws Exception {
        // names with ../ would land beside the repository (../../x from pgdatadirs/) or at its top
        List<String> beside = listing(z.dir());
        List<String> top = listing(z.repo());
        List<String[]> cases = new ArrayList<>(List.of(
                new String[] {"/v1/branches", "{"},
                new String[] {"/v1/branches", "not json"},
                new String[] {"/v1/branches", "null"},
                new String[] {"/v1/branches", "[]"},
                new String[] {"/v1/branches", "\"feature\""},
                new String[] {"/v1/branches", "{\"name\": 5}"},
                new String[] {"/v1/branches", "{\"name\": [\"a\"]}"},
                new String[] {"/v1/branches", "{\"name\": {\"x\": 1}}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"unknown\": 1}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\"} {\"name\": \"again\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"parent\": \"no_such_parent\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"at\": \"0/ZZZ\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"at\": \"2026-13-45T99:00:00Z\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"at\": \"FFFFFFFF/FFFFFFFF\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"at\": \"-99999999999999d\"}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"at\": 12}"},
                new String[] {"/v1/branches", "{\"name\": \"ok\", \"retention\": \"forever-ish\"}"},
                new String[] {"/v1/computes", "{\"branch\": \"main\", \"port\": \"abc\"}"},
                new String[] {"/v1/computes", "{\"branch\": \"main\", \"port\": 70000}"},
                new String[] {"/v1/computes", "{\"branch\": \"main\", \"name\": \"../../x\"}"},
                new String[] {"/v1/computes", "{\"branch\": \"main\", \"idleTimeout\": \"soon\"}"},
                new String[] {"/v1/computes/main/start", "{\"at\": \"yesterday-ish\"}"},
                new String[] {"/v1/computes/main/stop", "{\"destroy\": \"yes\"}"},
                new String[] {"/v1/branches/main/rename", "{\"to\": \"../main2\"}"},
                new String[] {"/v1/branches/main/reset", "{\"backup\": 1}"},
                new String[] {"/v1/branches/main/retention", "{\"retention\": \"-5m\"}"}));
        for (String name : BAD_NAMES) {
            String quoted = Json.MAPPER.writeValueAsString(name);
            cases.add(new String[] {"/v1/branches", "{\"name\": " + quoted + "}"});
            cases.add(new String[] {"/v1/branches", "{\"name\": \"ok\", \"parent\": " + quoted + "}"});
            cases.add(new String[] {"/v1/branches/main/rename", "{\"to\": " + quoted + "}"});
            cases.add(new String[] {"/v1/computes", "{\"branch\": " + quoted + "}"});
        }
        for (String[] c : cases) {
            assertRefused(post(c[0], c[1]), "POST " + c[0] + " " + c[1]);
        }
        for (String path : List.of("/v1/branches/..%2F..%2Fetc", "/v1/branches/%00", "/v1/branches/" + "y".repeat(1000),
                "/v1/branches/a%2Fb", "/v1/computes/..%2Fx/stop", "/v1/nothing", "/v1/branches/main/explode")) {
            assertRefused(http("DELETE", path, local(), List.of(), new byte[0]), "DELETE " + path);
            assertRefused(post(path, "{}"), "POST " + path);
            assertRefused(http("GET", path, local(), List.of(), new byte[0]), "GET " + path);
        }
        assertRefused(http("PUT", "/v1/branches", local(), List.of(), new byte[0]), "PUT");
        byte[] huge = ("{\"name\": \"" + "z".repeat(2 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        assertRefused(http("POST", "/v1/branches", local(), List.of(), huge), "a 2 MB body");

        // nothing was made, in the repository or beside it, and the daemon still serves
        assertThat(listing(z.dir())).isEqualTo(beside);
        assertThat(listing(z.repo())).isEqualTo(top);
        assertThat(z.cli("branch").ok().out()).doesNotContain("ok");
        assertThat(http("GET", "/v1/branches", local(), List.of(), new byte[0]).status()).isEqualTo(200);
    }

    @Test
    void browserRequestsFromOtherOriginsAndUnknownHostsAreRefused() throws Exception {
        byte[] body = "{\"name\": \"from_a_web_page\"}".getBytes(StandardCharsets.UTF_8);
        // DNS rebinding: a page's own name pointing at 127.0.0.1
        assertThat(http("POST", "/v1/branches", "evil.example:" + z.apiPort(), List.of(), body).status()).isEqualTo(403);
        assertThat(http("GET", "/v1/branches", "evil.example", List.of(), new byte[0]).status()).isEqualTo(403);
        assertThat(http("GET", "/v1/branches", null, List.of(), new byte[0]).status()).isBetween(400, 403);
        // a page elsewhere posting through the user's browser
        assertThat(http("POST", "/v1/branches", local(), List.of("Origin: https://evil.example"), body).status()).isEqualTo(403);
        assertThat(http("POST", "/v1/branches", local(), List.of("Origin: http://localhost:3000"), body).status()).isEqualTo(403);
        assertThat(http("DELETE", "/v1/branches/main", local(), List.of("Origin: null"), new byte[0]).status()).isEqualTo(403);
        assertThat(http("POST", "/v1/branches", local(), List.of("Sec-Fetch-Site: cross-site"), body).status()).isEqualTo(403);
        assertThat(z.cli("branch").ok().out()).doesNotContain("from_a_web_page");
        // the daemon's own origin and plain clients are served
        assertThat(http("GET", "/v1/status", "localhost:" + z.apiPort(), List.of("Origin: http://localhost:" + z.apiPort()),
                new byte[0]).status()).isEqualTo(200);
        assertThat(http("POST", "/v1/branches", local(), List.of(), body).status()).isEqualTo(201);
    }

    @Test
    void theCliRefusesTheSameValuesWithExitCode2() {
        for (String name : BAD_NAMES) {
            Zenith.Result create = z.cli("branch", name, "main");
            assertThat(create.exit()).as("zenith branch '%s' main: %s", name, create.err()).isEqualTo(2);
            // picocli takes "-lead" for an unknown option: a usage error all the same
            assertThat(create.err()).contains(name.startsWith("-") ? "Unknown option" : "invalid branch name");
            assertThat(create.err()).as("one clear line, no Java, no whole usage").doesNotContain("java.").doesNotContain("Usage:");
            assertThat(z.cli("branch", "ok_name", name).exit()).as("parent '%s'", name).isEqualTo(2);
            assertThat(z.cli("branch", "rename", "main", name).exit()).as("rename to '%s'", name).isEqualTo(2);
            assertThat(z.cli("pg", "start", name).exit()).as("pg start '%s'", name).isEqualTo(2);
        }
        for (String at : List.of("0/ZZZ", "2026-13-45T99:00:00Z", "yesterday", "-5parsecs", "")) {
            Zenith.Result r = z.cli("branch", "at_bad", "main", "--at", at);
            assertThat(r.exit()).as("--at '%s': %s", at, r.err()).isEqualTo(2);
            assertThat(r.err()).isNotBlank();
        }
        assertThat(z.cli("branch", "retention", "main", "soon").exit()).isEqualTo(2);
        assertThat(z.cli("pg", "create", "main", "--port", "70000").exit()).isEqualTo(2);
        assertThat(z.cli("pg", "create", "main", "--port", "abc").exit()).isEqualTo(2);
        assertThat(z.cli("branch").ok().out()).doesNotContain("at_bad").doesNotContain("ok_name");
        try (Zenith other = Zenith.empty()) {
            Zenith.Result init = other.init("--wal-compression", "gzip");
            assertThat(init.exit()).isEqualTo(2);
            assertThat(init.err()).contains("invalid walCompression \"gzip\": use off, pglz, lz4, zstd");
            assertThat(other.repo()).doesNotExist();
            Zenith.Result old = other.init("--pg-version", "14");
            assertThat(old.exit()).isEqualTo(2);
            assertThat(old.err()).contains("PostgreSQL 14 is not one zenith runs: use 15, 16, 17, 18 (14 has reached its end of life)");
            assertThat(other.repo()).doesNotExist();
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir, 1)) {
            return files.map(Path::toString).sorted().toList();
        }
    }
}
