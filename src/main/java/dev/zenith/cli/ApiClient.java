package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repository;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** Calls the pageserver's API; turns its JSON errors back into {@link ZenithException}s. */
final class ApiClient {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    private ApiClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    static ApiClient forRepository(Path root) {
        return new ApiClient(Repository.open(root).config().apiPort());
    }

    <T> T get(String path, TypeReference<T> type) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), type);
    }

    <T> T post(String path, Object body, TypeReference<T> type) {
        try {
            return send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body))), type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    <T> T delete(String path, TypeReference<T> type) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), type);
    }

    boolean isUp() {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/status"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private <T> T send(HttpRequest.Builder request, TypeReference<T> type) {
        try {
            HttpResponse<byte[]> response = http.send(request.timeout(Duration.ofMinutes(15)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() / 100 == 2) {
                return Json.MAPPER.readValue(response.body(), type);
            }
            var error = Json.MAPPER.readTree(response.body());
            String message = error.path("error").asText("the pageserver answered " + response.statusCode());
            String hint = error.path("hint").isTextual() ? error.path("hint").asText() : null;
            ZenithException.Kind kind = switch (response.statusCode()) {
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
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }
}
