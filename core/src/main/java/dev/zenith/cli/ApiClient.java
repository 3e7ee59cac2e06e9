package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.ZenithException;
import dev.zenith.model.DaemonStatus;
import dev.zenith.pageserver.Offline;
import dev.zenith.storage.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Calls the pageserver's API; turns its JSON errors back into {@link ZenithException}s. Uses
 * {@link HttpURLConnection} rather than {@code java.net.http.HttpClient}: every CLI command is a fresh
 * JVM, and HttpClient's start-up (a selector thread, its executor) measured about 200 ms against 20.
 */
final class ApiClient {

    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 15 * 60_000;

    private final String base;
    /** The repository's API token, which the daemon asks of every request; null in a repository older than tokens. */
    private final String token;

    private ApiClient(int port, Path root) {
        this.base = "http://127.0.0.1:" + port;
        this.token = Files.exists(root.resolve(Repository.API_TOKEN)) ? Repository.apiToken(root) : null;
    }

    static ApiClient forRepository(Path root) {
        return new ApiClient(Offline.open(root).config().apiPort(), root);
    }

    /** The running daemon's status, or empty when no pageserver runs on the repository. */
    static Optional<DaemonStatus> runningStatus(Path root) {
        Offline repository = Offline.open(root);
        if (repository.daemonPid().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ApiClient(repository.config().apiPort(), root).get("/v1/status", new TypeReference<>() { }));
    }

    <T> T get(String path, TypeReference<T> type) {
        return send("GET", path, null, type);
    }

    <T> T post(String path, Object body, TypeReference<T> type) {
        return send("POST", path, body, type);
    }

    /** A POST that may take as long as it takes: an import of a large database. */
    <T> T postWaiting(String path, Object body, TypeReference<T> type) {
        return send("POST", path, body, type, 0);
    }

    <T> T delete(String path, TypeReference<T> type) {
        return send("DELETE", path, null, type);
    }

    boolean isUp() {
        try {
            HttpURLConnection c = open("GET", "/v1/status", 2_000);
            int status = c.getResponseCode();
            c.getInputStream().close();
            return status == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private HttpURLConnection open(String method, String path, int readTimeout) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(base + path).toURL().openConnection();
        c.setRequestMethod(method);
        c.setConnectTimeout(CONNECT_TIMEOUT_MS);
        c.setReadTimeout(readTimeout);
        if (token != null) {
            c.setRequestProperty("Authorization", "Bearer " + token);
        }
        return c;
    }

    private <T> T send(String method, String path, Object body, TypeReference<T> type) {
        return send(method, path, body, type, READ_TIMEOUT_MS);
    }

    private <T> T send(String method, String path, Object body, TypeReference<T> type, int readTimeoutMs) {
        return exchange(method, path, body, readTimeoutMs, in -> Json.MAPPER.readValue(in, type));
    }

    /** One line of an answer of JSON lines, and whether more have arrived already (flush only when not). */
    interface LineHandler {
        void line(String json, boolean moreArrived) throws IOException;
    }

    /**
     * Reads an answer of JSON lines ({@code zenith log}), each handed over as it arrives, as text: a command
     * printing {@code --json} passes it on unparsed. A last line carrying {@code error} is thrown. No time limit.
     */
    void postLines(String path, Object body, LineHandler each) {
        exchange("POST", path, body, 0, in -> {
            java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8),
                    1 << 16);
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("{\"error\"")) {
                    JsonNode node = Json.MAPPER.readTree(line);
                    throw ZenithException.failed(node.path("error").asText(), node.path("hint").isTextual() ? node.path("hint").asText() : null);
                }
                each.line(line, lines.ready());
            }
            return null;
        });
    }

    private interface Answer<T> {
        T read(InputStream in) throws IOException;
    }

    private <T> T exchange(String method, String path, Object body, int readTimeoutMs, Answer<T> answer) {
        try {
            HttpURLConnection c = open(method, path, readTimeoutMs);
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(Json.MAPPER.writeValueAsBytes(body));
                }
            }
            int status = c.getResponseCode();
            if (status / 100 == 2) {
                try (InputStream in = c.getInputStream()) {
                    return answer.read(in);
                }
            }
            JsonNode error;
            try (InputStream in = c.getErrorStream()) {
                error = in == null ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(in);
            }
            String message = error.path("error").asText("the pageserver answered " + status);
            String hint = error.path("hint").isTextual() ? error.path("hint").asText() : null;
            ZenithException.Kind kind = switch (status) {
                case 400 -> ZenithException.Kind.BAD_REQUEST;
                case 404 -> ZenithException.Kind.NOT_FOUND;
                case 409 -> ZenithException.Kind.CONFLICT;
                case 503 -> ZenithException.Kind.LIMIT;
                default -> ZenithException.Kind.FAILED;
            };
            throw new ZenithException(kind, message, hint);
        } catch (ConnectException e) {
            throw ZenithException.failed("pageserver is not running", "run zenith pageserver start");
        } catch (IOException e) {
            throw ZenithException.failed("cannot reach the pageserver at " + base + ": " + e.getMessage(),
                    "check it with zenith pageserver status");
        }
    }
}
