package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sharing branches through a real S3 server (S3Proxy): push, clone elsewhere, incremental push, pull,
 * time travel on the clone, divergence both ways, two pushes racing, the server dying mid-push.
 */
class RemoteTest {

    @Test
    void aTeammateClonesPullsAndIsToldWhenTheyDiverged() throws Exception {
        try (S3Server server = S3Server.start(); Zenith origin = Zenith.started(); Zenith teammate = Zenith.empty()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                int main = origin.start("main");
                origin.execute(main, "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 50000) g");
                origin.cli("remote", "add", "origin", "s3://team/shop", "--endpoint", server.endpoint()).ok();
                JsonNode first = json(origin.cli("push", "main", "--json").ok().out()).get(0);
                assertThat(first.get("manifest").asLong()).isEqualTo(1);
                assertThat(first.get("objectsSent").asInt()).isPositive();
                Instant afterFirst = Instant.now();

                for (int i = 1; i <= 10; i++) {
                    origin.execute(main, "INSERT INTO orders VALUES (" + (50000 + i) + ")");
                }
                JsonNode second = json(origin.cli("push", "main", "--json").ok().out()).get(0);
                assertThat(second.get("manifest").asLong()).isEqualTo(2);
                assertThat(second.get("bytesSent").asLong()).as("only the new WAL goes: %s", second)
                        .isLessThan(first.get("bytesSent").asLong() / 4);
                assertThat(origin.cli("push", "main").ok().out()).contains("main: up to date with origin (manifest 2)");
                assertThat(json(origin.cli("remote", "status", "--json").ok().out()).get(0).get("state").asText())
                        .isEqualTo("IN_SYNC");

                List<String> clone = new ArrayList<>(List.of("clone", "s3://team/shop", "--endpoint", server.endpoint(), "--json"));
                clone.addAll(teammate.listenArgs());
                JsonNode cloned = json(teammate.cli(clone.toArray(String[]::new)).ok().out());
                assertThat(cloned.get("branches").get(0).get("branch").asText()).isEqualTo("main");
                assertThat(cloned.get("branches").get(0).get("manifest").asLong()).isEqualTo(2);
                assertThat(cloned.get("timelinesFetched").asInt()).isEqualTo(1);
                assertThat(cloned.get("bytesFetched").asLong()).as("main's WAL and image").isGreaterThan(16L << 20);
                teammate.cli("pageserver", "start").ok();
                assertThat(count(teammate, "main")).as("the running branch's last commits were pushed").isEqualTo(50010);
                assertThat(teammate.cli("branch", "before", "main", "--at", afterFirst.toString()).ok().exit()).isZero();
                assertThat(count(teammate, "before")).as("time travel within the pushed history").isEqualTo(50000);

                origin.execute(main, "INSERT INTO orders SELECT g FROM generate_series(50011, 50100) g");
                origin.cli("push", "main").ok();
                assertThat(teammate.cli("pull", "main").ok().out()).contains("pulled main to origin's manifest 3");
                assertThat(count(teammate, "main")).isEqualTo(50100);
                assertThat(teammate.cli("pull", "main").ok().out()).contains("main: up to date with origin (manifest 3)");

                origin.execute(main, "INSERT INTO orders VALUES (-1)");
                origin.cli("push", "main").ok();
                try (Connection c = teammate.connectProxy("main"); Statement s = c.createStatement()) {
                    s.execute("INSERT INTO orders VALUES (-2)");
                }
                Zenith.Result pull = teammate.cli("pull", "main");
                assertThat(pull.exit()).isEqualTo(1);
                assertThat(pull.err()).contains("cannot pull main: diverged").contains("zenith branch rename main main-mine");
                Zenith.Result push = teammate.cli("push", "main");
                assertThat(push.exit()).isEqualTo(1);
                assertThat(push.err()).contains("cannot push main: diverged").contains("push yours under another name");
                assertThat(count(teammate, "main")).as("nothing of the teammate's was overwritten").isEqualTo(50101);
                assertThat(teammate.cli("remote", "status").ok().out()).contains("main\torigin\tdiverged");
                origin.execute(main, "INSERT INTO orders VALUES (-3)");
                assertThat(origin.cli("remote", "status").ok().out()).contains("main\torigin\tahead");
                assertThat(manifests(server, "shop", "main")).containsExactly("manifest-1.json", "manifest-2.json",
                        "manifest-3.json", "manifest-4.json");
            });
        }
    }

    @Test
    void twoPushesRacingLeaveOneWinnerAndAServerKilledMidPushLeavesNoHalfBranch() throws Exception {
        try (S3Server server = S3Server.start(); Zenith a = Zenith.started(); Zenith b = Zenith.empty();
             Zenith c = Zenith.empty()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                int main = a.start("main");
                a.execute(main, "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
                a.cli("remote", "add", "origin", "s3://team/race", "--endpoint", server.endpoint()).ok();
                a.cli("push", "main").ok();
                List<String> clone = new ArrayList<>(List.of("clone", "s3://team/race", "--endpoint", server.endpoint()));
                clone.addAll(b.listenArgs());
                b.cli(clone.toArray(String[]::new)).ok();
                b.cli("pageserver", "start").ok();
                a.execute(main, "INSERT INTO t VALUES (-1)");
                try (Connection conn = b.connectProxy("main"); Statement s = conn.createStatement()) {
                    s.execute("INSERT INTO t VALUES (-2)");
                }

                CompletableFuture<Zenith.Result> fromA = CompletableFuture.supplyAsync(() -> a.cli("push", "main"));
                CompletableFuture<Zenith.Result> fromB = CompletableFuture.supplyAsync(() -> b.cli("push", "main"));
                List<Zenith.Result> results = List.of(fromA.get(), fromB.get());
                assertThat(results).as("one wins").filteredOn(r -> r.exit() == 0).hasSize(1);
                Zenith.Result loser = results.stream().filter(r -> r.exit() != 0).findFirst().orElseThrow();
                assertThat(loser.exit()).isEqualTo(1);
                assertThat(loser.err()).as("the other is told").containsPattern("someone (else )?pushed main|cannot push main: diverged");
                assertThat(manifests(server, "race", "main")).containsExactly("manifest-1.json", "manifest-2.json");

                // the server dies after the objects, before the manifest: the remote shows the branch as it was
                a.execute(main, "CREATE TABLE more AS SELECT g FROM generate_series(1, 100000) g");
                a.armFailpoint("push-objects-sent");
                CompletableFuture<Zenith.Result> cut = CompletableFuture.supplyAsync(() -> a.cli("push", "main"));
                Zenith.waitFor(Duration.ofSeconds(120), () -> logSays(a, "failpoint push-objects-sent reached"),
                        "the push to reach its manifest");
                server.kill();
                Files.delete(a.repo().resolve(dev.zenith.Failpoints.FILE));
                Zenith.Result failed = cut.get();
                assertThat(failed.exit()).isEqualTo(1);
                assertThat(failed.err()).contains("cannot reach the remote s3://team/race at " + server.endpoint());
                server.launch();
                assertThat(manifests(server, "race", "main")).as("no half branch").containsExactly("manifest-1.json",
                        "manifest-2.json");

                boolean aWon = results.get(0).exit() == 0;
                if (!aWon) {
                    a.cli("branch", "rename", "main", "mine").ok();
                }
                String pushed = aWon ? "main" : "mine";
                assertThat(a.cli("push", pushed).ok().out()).contains("pushed " + pushed);
                List<String> third = new ArrayList<>(List.of("clone", "s3://team/race", "--branch", pushed,
                        "--endpoint", server.endpoint()));
                third.addAll(c.listenArgs());
                assertThat(c.cli(third.toArray(String[]::new)).ok().out()).startsWith("cloned 1 branch (");
                c.cli("pageserver", "start").ok();
                try (Connection conn = c.connectProxy(pushed); Statement s = conn.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM more")) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("the repeated push is complete").isEqualTo(100000);
                }
            });
        }
    }

    private static boolean logSays(Zenith z, String text) {
        try {
            Path log = z.repo().resolve("logs/pageserver.log");
            return Files.exists(log) && Files.readString(log).contains(text);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static List<String> manifests(S3Server server, String prefix, String branch) throws java.io.IOException {
        Path dir = server.bucketDir("team").resolve(prefix).resolve("branches").resolve(branch);
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static long count(Zenith z, String branch) throws SQLException {
        try (Connection c = z.connectProxy(branch); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static JsonNode json(String text) throws java.io.IOException {
        return Json.MAPPER.readTree(text);
    }
}
