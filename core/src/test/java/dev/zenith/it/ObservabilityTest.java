package dev.zenith.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringWriter;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code /metrics}, {@code zenith pg logs} and {@code zenith pageserver logs}, and the CLI's progress bars. */
class ObservabilityTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass().configuredWith(Map.of("spareDiskMb", -1));

    private static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void metricsCountStartsConnectionsBytesStorageAndGc() throws Exception {
        z.cli("branch", "metered", "main").ok();
        Map<String, Double> before = scrape();
        assertThat(before).containsKeys("zenith_proxy_connections_total", "zenith_computes{state=\"running\"}",
                "zenith_compute_start_seconds_count{data_dir=\"recovered\"}", "zenith_gc_freed_bytes_total",
                "zenith_branch_storage_bytes{branch=\"metered\"}", "zenith_images{branch=\"main\"}");

        try (Connection c = z.connectProxy("metered"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT repeat('x', 200000)")) {
                rs.next();
            }
            Map<String, Double> during = scrape();
            assertThat(during.get("zenith_proxy_connections_active")).isGreaterThanOrEqualTo(1);
            assertThat(during.get("zenith_computes{state=\"running\"}")).isGreaterThanOrEqualTo(1);
            // a WAL segment switched out is archived into the branch's timeline by Postgres
            s.execute("CREATE TABLE m AS SELECT generate_series(1, 1000) AS x");
            s.execute("SELECT pg_switch_wal()");
        }
        Zenith.waitFor(Duration.ofSeconds(60), () -> scrape().get("zenith_wal_archived_segments{branch=\"metered\"}") >= 1,
                "the branch's WAL to be archived");
        Map<String, Double> after = scrape();
        assertThat(after.get("zenith_proxy_connections_total") - before.get("zenith_proxy_connections_total")).isGreaterThanOrEqualTo(1);
        assertThat(delta(before, after, "zenith_proxy_bytes_total{direction=\"compute_to_client\"}")).isGreaterThan(200_000);
        assertThat(delta(before, after, "zenith_proxy_bytes_total{direction=\"client_to_compute\"}")).isGreaterThan(0);
        assertThat(delta(before, after, "zenith_compute_start_seconds_count{data_dir=\"recovered\"}")).isEqualTo(1);
        assertThat(after.get("zenith_compute_start_seconds_sum{data_dir=\"recovered\"}")).isGreaterThan(0);
        assertThat(after.get("zenith_wal_archived_bytes{branch=\"metered\"}")).isGreaterThanOrEqualTo(16 << 20);
        assertThat(after.get("zenith_branch_storage_bytes{branch=\"metered\"}")).isGreaterThanOrEqualTo(16 << 20);

        z.cli("gc").ok();
        assertThat(delta(after, scrape(), "zenith_gc_runs_total")).isEqualTo(1);
    }

    @Test
    void metricsAreServedInPrometheusTextFormat() throws Exception {
        HttpResponse<String> r = http.send(z.authorized(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.apiPort() + "/metrics")))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.body()).contains("# TYPE zenith_compute_start_seconds histogram")
                .contains("zenith_compute_start_seconds_bucket{data_dir=\"recovered\",le=\"+Inf\"}")
                .contains("# TYPE zenith_proxy_bytes_total counter");
    }

    @Test
    void logsPrintAndFollowTheComputeAndTheDaemon() throws Exception {
        z.cli("branch", "logged", "main").ok();
        int port = z.start("logged");
        assertThat(z.cli("pg", "logs", "logged").ok().out()).contains("database system is ready to accept connections");
        String node = null;
        for (var n : dev.zenith.Json.MAPPER.readTree(z.cli("pg", "list", "--json").ok().out())) {
            if (n.path("branch").asText().equals("logged")) {
                node = n.path("name").asText();
            }
        }
        assertThat(z.cli("pg", "logs", node, "-n", "1").ok().out().lines()).hasSize(1);

        // Postgres may log after pg_ctl returns (the end-of-recovery checkpoint), so the log's last line is made
        // known first: RAISE LOG writes three lines, of which -n 1 must show only the last
        z.execute(port, "DO $$ BEGIN RAISE LOG 'zenith-before-follow'; END $$");
        Zenith.waitFor(Duration.ofSeconds(30), () -> z.cli("pg", "logs", "logged").ok().out().contains("zenith-before-follow"),
                "the first marker in the log");
        StringWriter followed = new StringWriter();
        AtomicInteger exit = new AtomicInteger(-1);
        Thread follower = Thread.ofPlatform().start(() -> exit.set(z.cli(followed, new StringWriter(), "pg", "logs", "logged", "-f", "-n", "1")));
        try {
            // the last line printed means the follower is at the end of the file: what comes next is appended
            Zenith.waitFor(Duration.ofSeconds(30), () -> followed.toString().lines().count() == 1, "the log's last line");
            z.execute(port, "DO $$ BEGIN RAISE LOG 'zenith-follow-marker'; END $$");
            Zenith.waitFor(Duration.ofSeconds(30), () -> followed.toString().contains("zenith-follow-marker"),
                    "the followed log to show the new line");
            assertThat(followed.toString()).doesNotContain("ready to accept connections").doesNotContain("LOG:  zenith-before-follow");
        } finally {
            follower.interrupt();
            follower.join(10_000);
        }
        assertThat(exit.get()).isZero();

        String firstLine = Files.readAllLines(z.repo().resolve("logs/pageserver.log")).get(0);
        assertThat(z.cli("pageserver", "logs").ok().out()).startsWith(firstLine).contains("pageserver started");
        assertThat(z.cli("pageserver", "logs", "--tail", "2").ok().out().lines()).hasSize(2);

        Zenith.Result unknown = z.cli("pg", "logs", "nosuch");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("no compute node or branch is named \"nosuch\"");
        z.cli("branch", "never_started", "main").ok();
        assertThat(z.cli("pg", "logs", "never_started").err()).contains("branch \"never_started\" has no compute yet");
        assertThat(z.cli("pg", "logs", "logged", "-n", "-3").exit()).isEqualTo(2);
    }

    @Test
    void aComputeLogRollsAtItsCapAndLogsStillReadAcrossTheRoll() throws Exception {
        try (Zenith capped = Zenith.empty()) {
            capped.init().ok();
            capped.configure(Map.of("maxLogMb", 1, "housekeepingInterval", "1s"));
            capped.cli("pageserver", "start").ok();
            int port = capped.start("main");
            capped.execute(port, "DO $$ BEGIN RAISE LOG 'zenith-first-marker'; END $$");
            // 1,500 lines of 1 KiB: over the 1 MiB cap, so the daemon's log task rolls the file within a second or two
            capped.execute(port, "DO $$ BEGIN FOR i IN 1..1500 LOOP RAISE LOG 'filler % %', i, repeat('x', 1000); END LOOP; END $$");
            String node = capped.computesOf("main").get(0).path("name").asText();
            Path log = capped.repo().resolve("logs/compute-" + node + ".log");
            Zenith.waitFor(Duration.ofSeconds(60), () -> Files.exists(log.resolveSibling("compute-" + node + ".log.1")),
                    "the compute's log to roll");
            capped.execute(port, "DO $$ BEGIN RAISE LOG 'zenith-last-marker'; END $$");
            Zenith.waitFor(Duration.ofSeconds(30), () -> capped.cli("pg", "logs", "main", "-n", "1").ok().out()
                    .contains("zenith-last-marker"), "the last marker");
            assertThat(Files.size(log)).isLessThan(1L << 20);

            String all = capped.cli("pg", "logs", "main").ok().out();
            assertThat(all).contains("zenith-first-marker", "filler 1500", "zenith-last-marker");
            assertThat(all.indexOf("zenith-first-marker")).isLessThan(all.indexOf("zenith-last-marker"));
            // the last lines come from both files: the whole current one and the end of the rolled one
            long current = Files.readAllLines(log).size();
            List<String> tail = capped.cli("pg", "logs", "main", "-n", Long.toString(current + 2)).ok().out().lines().toList();
            assertThat(tail).hasSize((int) current + 2);
            assertThat(tail.get(tail.size() - 1)).contains("zenith-last-marker");
            assertThat(capped.daemonLog()).contains("rolled compute-" + node + ".log: it was over 1 MiB");
        }
    }

    @Test
    void startShowsProgressWhileTheDataDirectoryIsMade() throws Exception {
        z.cli("branch", "progressing", "main").ok();
        StringWriter err = new StringWriter();
        AtomicInteger exit = new AtomicInteger(-1);
        System.setProperty("zenith.progress", "always");
        z.armFailpoint("compute-staged");
        Thread start = Thread.ofPlatform().start(() -> exit.set(z.cli(new StringWriter(), err, "pg", "start", "progressing")));
        try {
            // held just after the image was copied: the bar shows the phase, full
            Zenith.waitFor(Duration.ofSeconds(60), () -> err.toString().contains("copying image [########################] 100%"),
                    "the progress bar of the copy");
            assertThat(err.toString()).containsPattern("create pg\\d+ \\(progressing\\): copying image");
        } finally {
            Files.deleteIfExists(z.repo().resolve(dev.zenith.Failpoints.FILE));
            start.join(120_000);
            System.clearProperty("zenith.progress");
        }
        assertThat(exit.get()).isZero();
        assertThat(err.toString()).endsWith("\r\033[K");
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String series) {
        return after.getOrDefault(series, 0.0) - before.getOrDefault(series, 0.0);
    }

    /** The scrape as series (name and labels, as written) to value. */
    private static Map<String, Double> scrape() {
        try {
            String body = http.send(z.authorized(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + z.apiPort() + "/metrics"))).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Double> series = new HashMap<>();
            body.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).forEach(l -> {
                int space = l.lastIndexOf(' ');
                series.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
            });
            return series;
        } catch (Exception e) {
            throw new AssertionError("cannot scrape /metrics", e);
        }
    }
}
