package dev.zenith.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The zenith repository a test run uses and its pageserver, reached through the HTTP API only. The
 * repository is found as the CLI finds it: the {@code zenith.repo} system property, {@code
 * $ZENITH_REPO_DIR}, or {@code .zenith} in the working directory or above. A pageserver that is not
 * running is started with the {@code zenith} command ({@code zenith.command}, {@code $ZENITH_COMMAND},
 * or {@code zenith} on the PATH) and stopped when the run ends.
 */
final class Pageserver implements AutoCloseable {

    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

    private final Path repository;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI api;
    private final boolean startedHere;

    private Pageserver(Path repository, URI api, boolean startedHere) {
        this.repository = repository;
        this.api = api;
        this.startedHere = startedHere;
    }

    /** The pageserver of the repository this run uses, started if it is not running. */
    static Pageserver forThisRun() {
        Path repository = findRepository();
        String config = read(repository.resolve("config.json"));
        long port = FlatJson.number(config, "apiPort").orElseThrow(() -> new IllegalStateException(
                "zenith: " + repository.resolve("config.json") + " names no apiPort: is it a zenith repository?"));
        URI api = URI.create("http://127.0.0.1:" + port);
        Pageserver running = new Pageserver(repository, api, false);
        if (running.isUp()) {
            return running;
        }
        runZenith(repository, "pageserver", "start");
        return new Pageserver(repository, api, true);
    }

    Path repository() {
        return repository;
    }

    /** The repository's superuser password, when its computes ask for one. */
    Optional<String> password() {
        Path file = repository.resolve("password");
        return Files.exists(file) ? Optional.of(read(file).strip()) : Optional.empty();
    }

    /** Makes a branch of {@code parent} at its end of WAL that the pageserver deletes after {@code expires} if nobody does. */
    void createBranch(String name, String parent, String expires) {
        send("POST", "/v1/branches", "{\"name\": " + FlatJson.quote(name) + ", \"parent\": " + FlatJson.quote(parent)
                + ", \"expires\": " + FlatJson.quote(expires) + "}");
    }

    /** The branch's libpq connection URI through the proxy. */
    String connectionString(String branch) {
        String info = send("GET", "/v1/branches/" + encode(branch), null);
        return FlatJson.string(info, "connectionString").orElseThrow(() -> new IllegalStateException(
                "zenith: the pageserver gave no connection string for branch " + branch + ": " + info));
    }

    void deleteBranch(String name) {
        send("DELETE", "/v1/branches/" + encode(name), null);
    }

    boolean isUp() {
        try {
            return http.send(authorized(HttpRequest.newBuilder(api.resolve("/v1/status")).timeout(Duration.ofSeconds(5))).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException notListening) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the pageserver when this run started it (and nobody stopped it meanwhile). */
    @Override
    public void close() {
        if (startedHere && isUp()) {
            runZenith(repository, "pageserver", "stop");
        }
    }

    /**
     * The request with the repository's API token, which the pageserver asks of every caller; the tests run
     * as the repository's owner, the only one who can read it.
     */
    private HttpRequest.Builder authorized(HttpRequest.Builder request) {
        Path token = repository.resolve("api-token");
        return Files.exists(token) ? request.header("Authorization", "Bearer " + read(token).strip()) : request;
    }

    private String send(String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(api.resolve(path)).timeout(REQUEST_TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> response = http.send(authorized(request).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                String error = FlatJson.string(response.body(), "error").orElse(response.body());
                String hint = FlatJson.string(response.body(), "hint").map(h -> ": " + h).orElse("");
                throw new IllegalStateException("zenith: " + error + hint);
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException("zenith: the pageserver at " + api + " did not answer " + method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("zenith: interrupted while calling the pageserver", e);
        }
    }

    private static Path findRepository() {
        String property = System.getProperty("zenith.repo");
        if (property != null && !property.isBlank()) {
            return requireRepository(Path.of(property), "the zenith.repo system property");
        }
        String env = System.getenv("ZENITH_REPO_DIR");
        if (env != null && !env.isBlank()) {
            return requireRepository(Path.of(env), "$ZENITH_REPO_DIR");
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve(".zenith").resolve("config.json"))) {
                return dir.resolve(".zenith");
            }
        }
        throw new IllegalStateException("zenith: no repository for these tests: none in " + Path.of("").toAbsolutePath()
                + " or above, and neither the zenith.repo system property nor $ZENITH_REPO_DIR names one; run zenith init"
                + " in the project, or set one of them");
    }

    private static Path requireRepository(Path dir, String source) {
        if (!Files.exists(dir.resolve("config.json"))) {
            throw new IllegalStateException("zenith: " + source + " names " + dir + ", which holds no zenith repository");
        }
        return dir.toAbsolutePath();
    }

    /** Runs a zenith command on the repository; a failure says what it printed. */
    private static void runZenith(Path repository, String... args) {
        String command = Optional.ofNullable(System.getProperty("zenith.command"))
                .or(() -> Optional.ofNullable(System.getenv("ZENITH_COMMAND"))).orElse("zenith");
        List<String> line = new ArrayList<>(List.of(command, "--repo", repository.toString()));
        line.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException("zenith: " + String.join(" ", line) + " failed: " + output.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("zenith: cannot run " + command + " (set the zenith.command system property or"
                    + " $ZENITH_COMMAND to the zenith launcher, or put zenith on the PATH)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("zenith: interrupted while running " + String.join(" ", line), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("zenith: cannot read " + file, e);
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8);
    }
}
