package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Many things at once: every request succeeds or fails with a clear error, and the metadata stays consistent. */
class ConcurrencyTest {

    private static final int NAMES = 30;

    @Test
    void aHundredBranchCreationsAndDeletionsRaceFromTheCliAndTheApi() throws Exception {
        try (Zenith z = Zenith.started(); HttpClient http = HttpClient.newHttpClient()) {
            z.start("main");
            Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
            List<String> unclear = java.util.Collections.synchronizedList(new ArrayList<>());
            try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                List<Future<?>> work = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    int n = i;
                    String create = "race_" + (n % NAMES);
                    String delete = "race_" + ((n * 7) % NAMES);
                    work.add(pool.submit(() -> {
                        if (n % 2 == 0) {
                            record(outcomes, unclear, "cli create", z.cli("branch", create, "main"));
                            record(outcomes, unclear, "cli delete", z.cli("branch", "delete", delete));
                        } else {
                            record(outcomes, unclear, "api create", api(http, z, "POST", "/v1/branches",
                                    "{\"name\": \"" + create + "\", \"parent\": \"main\"}"));
                            record(outcomes, unclear, "api delete", api(http, z, "DELETE", "/v1/branches/" + delete, null));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : work) {
                    f.get();
                }
            }
            System.out.println("branch race outcomes: " + new java.util.TreeMap<>(outcomes)); // for docs/RELIABILITY.md
            assertThat(unclear).as("answers that were neither a success nor a clear refusal").isEmpty();
            assertThat(outcomes.getOrDefault("cli create ok", new AtomicInteger()).get()
                    + outcomes.getOrDefault("api create ok", new AtomicInteger()).get()).isPositive();

            // the registry, the timelines on disk and the API agree; every surviving branch works
            Set<String> listed = new HashSet<>();
            JsonNode branches = Json.MAPPER.readTree(api(http, z, "GET", "/v1/branches", null).body());
            branches.forEach(b -> listed.add(b.get("timelineId").asText()));
            Set<String> onDisk = new HashSet<>();
            try (Stream<Path> dirs = Files.list(z.repo().resolve("timelines"))) {
                dirs.forEach(d -> onDisk.add(d.getFileName().toString()));
            }
            assertThat(onDisk).as("no timeline left without its branch").isEqualTo(listed);
            for (JsonNode b : branches) {
                String name = b.get("name").asText();
                try (Connection c = z.connectProxy(name); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).as(name).isTrue();
                }
                z.cli("pg", "stop", name).ok();
            }
        }
    }

    @Test
    void fiveHundredConnectionsStormTenColdBranches() throws Exception {
        try (Zenith z = Zenith.empty()) {
            z.init("--max-computes", "10").ok();
            z.cli("pageserver", "start").ok();
            z.start("main");
            z.execute(z.port("main"), "CREATE TABLE t AS SELECT 1 AS x");
            z.cli("pg", "stop", "main").ok();
            List<String> branches = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                branches.add("storm_" + i);
                z.cli("branch", "storm_" + i, "main").ok();
            }
            AtomicInteger served = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            long started = System.nanoTime();
            assertThat(Race.run(500, i -> {
                String branch = branches.get(i % branches.size());
                try (Connection c = z.connectProxy(branch); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT x FROM t")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                    served.incrementAndGet();
                } catch (Exception e) {
                    failures.add(branch + ": " + e.getMessage());
                }
            })).isEmpty();
            System.out.println("storm: " + served.get() + " of 500 served in " + (System.nanoTime() - started) / 1_000_000 + " ms");
            assertThat(failures).isEmpty();
            assertThat(served.get()).isEqualTo(500);
            for (String b : branches) {
                assertThat(z.computesOf(b)).as("computes of " + b).hasSize(1);
            }
        }
    }

    private static void record(Map<String, AtomicInteger> outcomes, List<String> unclear, String what, Zenith.Result r) {
        boolean ok = r.exit() == 0;
        if (!ok && (r.exit() > 2 || r.err().isBlank() || r.err().contains("internal error") || r.err().contains("Exception"))) {
            unclear.add(what + " exit " + r.exit() + ": " + r.err());
        }
        outcomes.computeIfAbsent(what + (ok ? " ok" : " refused"), k -> new AtomicInteger()).incrementAndGet();
    }

    private static void record(Map<String, AtomicInteger> outcomes, List<String> unclear, String what, HttpResponse<String> r) {
        boolean ok = r.statusCode() < 300;
        if (!ok) {
            try {
                if (r.statusCode() >= 500 || Json.MAPPER.readTree(r.body()).path("error").asText().isBlank()) {
                    unclear.add(what + " " + r.statusCode() + ": " + r.body());
                }
            } catch (Exception e) {
                unclear.add(what + " " + r.statusCode() + " not JSON: " + r.body());
            }
        }
        outcomes.computeIfAbsent(what + (ok ? " ok" : " refused"), k -> new AtomicInteger()).incrementAndGet();
    }

    private static HttpResponse<String> api(HttpClient http, Zenith z, String method, String path, String body) {
        try {
            HttpRequest.Builder b = z.authorized(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.apiPort() + path)))
                    .timeout(Duration.ofSeconds(120))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
