package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The interleavings that once lost a branch or a truthful answer, made certain with failpoints
 * (dev.zenith.Failpoints) and by reading where the daemon's threads wait: each test failed on the code
 * before its fix. The daemon checks its lock order throughout (dev.zenith.Locks); {@link Zenith#close}
 * fails a test whose daemon took two locks in an order that can deadlock.
 */
class RacesTest {

    private static final Duration DEADLINE = Duration.ofSeconds(120);

    private Zenith z;

    @BeforeEach
    void setUp() {
        z = Zenith.started();
    }

    @AfterEach
    void tearDown() {
        z.close();
    }

    @Test
    void gcWhileABranchIsBeingCreatedKeepsTheNewBranchsTimeline() throws Exception {
        z.armFailpoint("branch-timeline-made");
        CompletableFuture<Zenith.Result> create = async(() -> z.cli("branch", "fresh", "main"));
        z.awaitFailpoint("branch-timeline-made");
        CompletableFuture<Zenith.Result> gc = async(() -> z.cli("gc"));
        // GC either ran through (and so saw the timeline without its name) or waits for the creation
        Zenith.waitFor(DEADLINE, () -> gc.isDone() || gcWaits(), "GC to finish or to wait for the branch's creation");
        z.releaseFailpoints();
        assertThat(create.get().ok().out()).contains("branching at");
        gc.get().ok();

        Zenith.Result listed = z.api("GET", "/v1/branches", null);
        assertThat(listed.exit()).as(listed.out()).isEqualTo(200);
        String timeline = branchesByName(listed.out()).stream().filter(b -> b.path("name").asText().equals("fresh"))
                .findFirst().orElseThrow().path("timelineId").asText();
        assertThat(z.repo().resolve("timelines").resolve(timeline).resolve("timeline.json")).exists();
        assertThat(z.cli("gc").ok().exit()).isZero();
        assertThat(z.queryLong(z.start("fresh"), "SELECT 1")).as("the new branch starts").isEqualTo(1);
    }

    @Test
    void aRenameRacingADeleteSaysRenamedOnlyWhenItRenamed() throws Exception {
        z.cli("branch", "victim", "main").ok();
        z.armFailpoint("branch-rename-checked");
        CompletableFuture<Zenith.Result> rename = async(() -> z.cli("branch", "rename", "victim", "renamed"));
        z.awaitFailpoint("branch-rename-checked");
        CompletableFuture<Zenith.Result> delete = async(() -> z.cli("branch", "delete", "victim"));
        // the delete either went through under the rename, or waits for the branch's lock the rename holds
        Zenith.waitFor(DEADLINE, () -> delete.isDone() || z.daemonThreadWaitsIn("BranchOperations.delete"),
                "the delete to finish or to wait for the rename");
        z.releaseFailpoints();
        Zenith.Result renamed = rename.get();
        Zenith.Result deleted = delete.get();

        List<String> names = names();
        if (renamed.exit() == 0) {
            assertThat(names).as("rename said: %s", renamed.out()).contains("renamed");
        }
        if (deleted.exit() == 0) {
            assertThat(names).as("delete said: %s", deleted.out()).doesNotContain("victim", "renamed");
        } else {
            assertThat(deleted.err()).contains("victim");
        }
        assertThat(renamed.exit() == 0 || deleted.exit() == 0).as("one of them happened: %s / %s", renamed, deleted).isTrue();
        assertThat(names).as("the branch is under one name or none").doesNotContain("victim");
    }

    /**
     * A pull that moves a running branch stops and starts its compute: it takes the timeline's lock, and the
     * start the archive's. It once took the archive's first, the reverse of every start, so a GC queued
     * between them deadlocked pull, start and GC, and every cold start after them. The daemon's lock
     * checks fail the first time both orders occur.
     */
    @Test
    void aPullOfARunningBranchTakesTheTimelineLockBeforeTheArchiveLock() throws Exception {
        try (S3Server server = S3Server.start(); Zenith teammate = Zenith.empty()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                int main = z.start("main");
                z.execute(main, "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 1000) g");
                z.cli("remote", "add", "origin", "s3://team/shop", "--endpoint", server.endpoint()).ok();
                z.cli("push", "main").ok();
                List<String> clone = new ArrayList<>(List.of("clone", "s3://team/shop", "--endpoint", server.endpoint()));
                clone.addAll(teammate.listenArgs());
                teammate.cli(clone.toArray(String[]::new)).ok();
                teammate.cli("pageserver", "start").ok();
                assertThat(RemoteTest.count(teammate, "main")).isEqualTo(1000); // a start: timeline, then archive

                z.execute(main, "INSERT INTO orders SELECT g FROM generate_series(1001, 1100) g");
                z.cli("push", "main").ok();
                assertThat(teammate.cli("pull", "main").ok().out()).contains("pulled main");
                assertThat(RemoteTest.count(teammate, "main")).as("the running branch was moved and started again").isEqualTo(1100);
                assertThat(teammate.daemonLog()).doesNotContain(dev.zenith.Locks.VIOLATION);
            });
        }
    }

    /**
     * A stop by hand (as a reset's or a pull's) once left the compute "running" to the proxy until its
     * Postgres was gone: a client arriving then was handed a Postgres about to shut down under it.
     */
    @Test
    void aClientArrivingWhileItsComputeStopsWaitsAndGetsOneThatRuns() throws Exception {
        z.start("main");
        String node = z.compute("main").orElseThrow().path("name").asText();
        z.armFailpoint("compute-stopping " + node);
        CompletableFuture<Zenith.Result> stop = async(() -> z.cli("pg", "stop", "main"));
        z.awaitFailpoint("compute-stopping " + node);
        CompletableFuture<Connection> client = async(() -> z.connectProxy("main"));
        Zenith.waitFor(DEADLINE, () -> client.isDone() || z.daemonThreadWaitsIn("Computes.ensureRunning"),
                "the client to connect or to wait for the stop");
        z.releaseFailpoints();
        stop.get().ok();
        try (Connection c = client.get(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    /** maxComputes once held only for starts by connections: pg start, resets, pulls and restarts went past it. */
    @Test
    void aStartByHandStaysWithinMaxComputes() throws Exception {
        z.cli("pageserver", "stop").ok();
        z.configure(java.util.Map.of("maxComputes", 1));
        z.cli("pageserver", "start").ok();
        z.cli("branch", "other", "main").ok();
        z.start("main");
        try (Connection held = z.connectProxy("main")) {
            Zenith.Result refused = z.cli("pg", "start", "other");
            assertThat(refused.exit()).as(refused.out()).isEqualTo(1);
            assertThat(refused.err()).contains("maxComputes is 1");
        }
        Zenith.waitFor(DEADLINE, () -> z.compute("main").orElseThrow().path("connections").asInt() == 0,
                "main's client to be gone");
        z.cli("pg", "start", "other").ok();
        assertThat(z.computes()).as("the idle one made room").filteredOn(n -> n.path("state").asText().equals("running"))
                .extracting(n -> n.path("branch").asText()).containsExactly("other");
        assertThat(z.compute("main").orElseThrow().path("state").asText()).isEqualTo("suspended");
    }

    /**
     * Admission once held its lock while it stopped the compute it evicted (up to a minute, plus an
     * image): every other cold start queued behind that one stop.
     */
    @Test
    void aSlowEvictionDoesNotHoldUpAnotherColdStart() throws Exception {
        z.cli("pageserver", "stop").ok();
        z.configure(java.util.Map.of("maxComputes", 2));
        z.cli("pageserver", "start").ok();
        for (String b : List.of("first", "second", "third", "fourth")) {
            z.cli("branch", b, "main").ok();
        }
        z.start("first"); // the least recently used: the first victim
        z.start("second");
        String first = z.compute("first").orElseThrow().path("name").asText();
        z.armFailpoint("compute-stopping " + first);
        CompletableFuture<Long> third = query("third");
        z.awaitFailpoint("compute-stopping " + first);
        assertThat(query("fourth").get(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                .as("a cold start while another start's victim is still stopping").isEqualTo(1);
        assertThat(third).isNotDone();
        z.releaseFailpoints();
        assertThat(third.get(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
    }

    /**
     * A branch made from a parent that a reset without backup replaces while the create waits for the
     * parent's lock: the create once went on from the timeline the reset had deleted, leaving a branch whose
     * history was gone (HistoryTest's CI run: "cannot read .../timeline.json" on its first connection).
     */
    @Test
    void aBranchIsNotMadeFromAParentThatAResetReplacedMeanwhile() throws Exception {
        z.execute(z.start("main"), "CREATE TABLE t AS SELECT 1 AS id");
        z.cli("branch", "parent", "main").ok();
        z.armFailpoint("locking parent to be branched");
        CompletableFuture<Zenith.Result> create = async(() -> z.cli("branch", "child", "parent"));
        z.awaitFailpoint("locking parent to be branched");
        z.cli("branch", "reset", "parent", "--no-backup").ok();
        z.releaseFailpoints();

        Zenith.Result created = create.get();
        assertThat(created.exit()).as("%s", created).isEqualTo(1);
        assertThat(created.err()).contains("branch \"parent\" was renamed, reset or deleted while it was being branched");
        assertThat(names()).doesNotContain("child");
        z.cli("branch", "child", "parent").ok();
        assertThat(z.queryLong(z.start("child"), "SELECT count(*) FROM t")).isEqualTo(1);
    }

    /**
     * A reset without backup keeps the old state while a branch or a tag needs it; it once looked before
     * taking the branch's lock, so a branch made in between lost its history with the old state.
     */
    @Test
    void aResetWithoutBackupKeepsTheOldStateForABranchMadeWhileItWaitedForTheLock() throws Exception {
        z.execute(z.start("main"), "CREATE TABLE t AS SELECT 1 AS id");
        z.cli("branch", "parent", "main").ok();
        z.armFailpoint("locking parent to be reset");
        CompletableFuture<Zenith.Result> reset = async(() -> z.cli("branch", "reset", "parent", "--no-backup"));
        z.awaitFailpoint("locking parent to be reset");
        z.cli("branch", "child", "parent").ok();
        z.cli("tag", "create", "mark", "parent").ok();
        z.releaseFailpoints();

        reset.get().ok();
        z.cli("gc").ok();
        assertThat(z.queryLong(z.start("child"), "SELECT count(*) FROM t")).as("the child's history is whole").isEqualTo(1);
    }

    /** {@code SELECT 1} through the proxy on a thread of its own. */
    private CompletableFuture<Long> query(String branch) {
        return async(() -> {
            try (Connection c = z.connectProxy(branch); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Test
    void aBranchNamingAMissingTimelineIsReportedAndCanBeDeletedWhileTheRestStillLists() throws Exception {
        z.cli("branch", "whole", "main").ok();
        z.cli("branch", "damaged", "main").ok();
        String timeline = branchesByName(z.api("GET", "/v1/branches", null).out()).stream()
                .filter(b -> b.path("name").asText().equals("damaged")).findFirst().orElseThrow().path("timelineId").asText();
        dev.zenith.storage.FileTrees.deleteTree(z.repo().resolve("timelines").resolve(timeline));

        assertThat(z.api("GET", "/v1/branches", null).exit()).isEqualTo(200);
        assertThat(names()).contains("main", "whole").doesNotContain("damaged");
        assertThat(z.daemonLog()).contains("branch damaged points at timeline " + timeline + ", which is missing");
        assertThat(z.cli("gc").ok().exit()).isZero();
        Zenith.Result connect = z.cli("pg", "start", "damaged");
        assertThat(connect.exit()).isEqualTo(1);
        assertThat(connect.err()).contains("missing").contains("zenith branch delete damaged");
        z.cli("branch", "delete", "damaged").ok();
        assertThat(Files.readString(z.repo().resolve("branches.json"))).doesNotContain("damaged");
    }

    /** Runs {@code work} on a thread of its own (the common pool has one thread on two cores). */
    private static <T> CompletableFuture<T> async(java.util.concurrent.Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private boolean gcWaits() {
        Zenith.Result ops = z.api("GET", "/v1/operations", null);
        try {
            for (JsonNode op : Json.MAPPER.readTree(ops.out())) {
                if (op.path("kind").asText().equals("gc") && op.path("phase").asText().startsWith("waiting")) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private List<String> names() throws java.io.IOException {
        List<String> names = new ArrayList<>();
        branchesByName(z.api("GET", "/v1/branches", null).out()).forEach(b -> names.add(b.path("name").asText()));
        return names;
    }

    private static List<JsonNode> branchesByName(String json) {
        try {
            List<JsonNode> all = new ArrayList<>();
            Json.MAPPER.readTree(json).forEach(all::add);
            return all;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
