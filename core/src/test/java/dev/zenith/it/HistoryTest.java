package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Everything at once, as Jepsen tests a database: a real daemon with real Postgres, S3Proxy for push and
 * pull, and workers choosing operations at random from a seed (create, delete, rename, reset, tag, expire,
 * protect, push, pull, GC, pg start and stop, idle suspends with a one-second timeout, writes through the
 * proxy kept in a ledger, read-only views of tagged points). Every operation must end within
 * {@link #DEADLINE}, else the daemon's threads are dumped and the test fails: that is how a deadlock
 * shows. Afterwards the registry, the disk and the API agree, no branch has two read-write computes,
 * every acknowledged ledger row is on its branch, and every branch rebuilds from the repository alone
 * with the same rows.
 *
 * <p>The model of which rows each branch holds is the test's: operations that change what a name means
 * (create, delete, rename, reset) take the test's lock of that name alone, writes take it shared, so a
 * row is always counted on the branch it went to. Everything else races freely, in the daemon too.
 *
 * <p>{@code -Dzenith.chaos.seed=N} replays one seed, {@code -Dzenith.chaos.seconds=S} runs each seed that
 * long; {@code bench/chaos.sh} does both.
 */
class HistoryTest {

    private static final Duration DEADLINE = Duration.ofSeconds(120);
    private static final int WORKERS = 4;
    private static final List<String> NAMES = List.of("b0", "b1", "b2", "b3", "b4", "b5");
    private static final List<String> TAGS = List.of("t0", "t1", "t2");

    static List<Long> seeds() {
        String seed = System.getProperty("zenith.chaos.seed");
        return seed == null || seed.isBlank() ? List.of(11L, 23L) : List.of(Long.parseLong(seed));
    }

    private final Map<String, ReentrantReadWriteLock> nameLocks = new ConcurrentHashMap<>();
    /** Acknowledged ledger ids of each branch name, as the model has it. */
    private final Map<String, Set<Long>> acked = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    private final List<String> unclear = java.util.Collections.synchronizedList(new ArrayList<>());
    /** The kinds of refusal seen, for the record. */
    private final Set<String> refusals = ConcurrentHashMap.newKeySet();

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyOperationAtOnceLosesNothingAndNeverHangs(long seed) throws Exception {
        Duration length = Duration.ofSeconds(Long.getLong("zenith.chaos.seconds", 30));
        try (S3Server server = S3Server.start(); Zenith z = Zenith.empty()) {
            server.createBucket("chaos");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                z.init("--max-computes", "3").ok();
                z.configure(Map.of("idleTimeout", "1s"));
                z.cli("pageserver", "start").ok();
                z.cli("remote", "add", "origin", "s3://chaos/repo", "--endpoint", server.endpoint()).ok();
                int main = z.start("main");
                z.execute(main, "CREATE TABLE ledger (id bigint PRIMARY KEY)");
                acked.put("main", ConcurrentHashMap.newKeySet());

                String failure = run(z, seed, length);
                System.out.println("history seed " + seed + ": " + new TreeMap<>(outcomes));
                refusals.stream().sorted().forEach(r -> System.out.println("  refused: " + r));
                assertThat(failure).as("seed %d (replay: bench/chaos.sh %d %d)", seed, length.toSeconds(), seed).isNull();
                assertThat(unclear).as("answers neither a success nor a clear refusal, seed %d", seed).isEmpty();
                checkInvariants(z, seed);
            });
        }
    }

    /** Runs the workers for {@code length}; returns what went wrong (an operation past its deadline), or null. */
    private String run(Zenith z, long seed, Duration length) throws InterruptedException {
        long end = System.nanoTime() + length.toNanos();
        Map<Integer, Long> opStarted = new ConcurrentHashMap<>();
        Map<Integer, String> opName = new ConcurrentHashMap<>();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            int worker = w;
            Random random = new Random(seed * 31 + w);
            workers.add(Thread.ofPlatform().name("history-" + w).start(() -> {
                while (System.nanoTime() < end) {
                    String op = pick(random);
                    opName.put(worker, op);
                    opStarted.put(worker, System.nanoTime());
                    perform(z, op, random);
                    opStarted.remove(worker);
                }
            }));
        }
        while (workers.stream().anyMatch(Thread::isAlive)) {
            for (Map.Entry<Integer, Long> e : opStarted.entrySet()) {
                if (System.nanoTime() - e.getValue() > DEADLINE.toNanos()) {
                    String dump = z.daemonThreads();
                    System.out.println("daemon threads when " + opName.get(e.getKey()) + " passed its deadline:\n" + dump);
                    return "worker " + e.getKey() + ": " + opName.get(e.getKey()) + " did not end within " + DEADLINE.toSeconds()
                            + " s (the daemon's threads are in the test's output)";
                }
            }
            workers.get(0).join(Duration.ofMillis(200));
        }
        return null;
    }

    private static final List<String> OPERATIONS = List.of(
            "write", "write", "write", "write", "write", "create", "create", "delete", "rename", "reset", "tag", "untag",
            "expire", "protect", "unprotect", "push", "pull", "gc", "start", "stop", "past");

    private static String pick(Random random) {
        return OPERATIONS.get(random.nextInt(OPERATIONS.size()));
    }

    private void perform(Zenith z, String op, Random random) {
        List<String> existing = acked.keySet().stream().filter(n -> !n.equals("main")).sorted().toList();
        // mostly a branch that exists (as the model last saw it), sometimes any name: refusals are answers too
        String name = !existing.isEmpty() && random.nextInt(5) != 0
                ? existing.get(random.nextInt(existing.size())) : NAMES.get(random.nextInt(NAMES.size()));
        String fresh = NAMES.get(random.nextInt(NAMES.size()));
        String other = random.nextInt(3) == 0 || existing.isEmpty() ? "main" : existing.get(random.nextInt(existing.size()));
        String tag = TAGS.get(random.nextInt(TAGS.size()));
        switch (op) {
            case "write" -> write(z, random.nextInt(4) == 0 ? "main" : name);
            case "create" -> exclusively(List.of(fresh), () -> {
                if (cli(z, op, "branch", fresh, other)) {
                    acked.put(fresh, ConcurrentHashMap.newKeySet());
                }
            });
            case "delete" -> exclusively(List.of(name), () -> {
                if (cli(z, op, "branch", "delete", name)) {
                    acked.remove(name);
                }
            });
            case "rename" -> exclusively(List.of(name, fresh), () -> {
                if (!fresh.equals(name) && cli(z, op, "branch", "rename", name, fresh)) {
                    acked.put(fresh, acked.remove(name));
                }
            });
            case "reset" -> exclusively(List.of(name), () -> {
                if (cli(z, op, "branch", "reset", name, "--no-backup")) {
                    acked.put(name, ConcurrentHashMap.newKeySet());
                }
            });
            case "tag" -> shared(name, () -> cli(z, op, "tag", "create", tag, name));
            case "untag" -> cli(z, op, "tag", "delete", tag);
            case "expire" -> shared(name, () -> cli(z, op, "branch", "expire", name, random.nextBoolean() ? "1h" : "never"));
            case "protect" -> shared(name, () -> cli(z, op, "branch", "protect", name));
            case "unprotect" -> shared(name, () -> cli(z, op, "branch", "unprotect", name));
            case "push" -> shared(name, () -> cli(z, op, "push", name));
            case "pull" -> shared(name, () -> cli(z, op, "pull", name));
            case "gc" -> cli(z, op, "gc");
            case "start" -> shared(name, () -> cli(z, op, "pg", "start", name));
            case "stop" -> shared(name, () -> cli(z, op, "pg", "stop", name));
            case "past" -> readPast(z, name + "@" + tag);
            default -> throw new IllegalStateException(op);
        }
    }

    /** A command whose answer is a success or a clear refusal; true on success. */
    private boolean cli(Zenith z, String op, String... args) {
        Zenith.Result r = z.cli(args);
        boolean ok = r.exit() == 0;
        if (!ok && (r.exit() != 1 || r.err().isBlank() || r.err().contains("internal error") || r.err().contains("Exception"))) {
            unclear.add(String.join(" ", args) + " exit " + r.exit() + ": " + r.err().strip());
        }
        count(op + (ok ? " ok" : " refused"));
        if (!ok) {
            refused(op, r.err());
        }
        return ok;
    }

    /** One row through the proxy; counted in the ledger once the commit is acknowledged. */
    private void write(Zenith z, String branch) {
        shared(branch, () -> {
            long id = ids.incrementAndGet();
            try (Connection c = z.connectProxy(branch); Statement s = c.createStatement()) {
                s.execute("INSERT INTO ledger VALUES (" + id + ")");
                acked.get(branch).add(id);
                count("write ok");
            } catch (SQLException e) {
                count("write refused " + e.getSQLState());
                refused("write " + e.getSQLState(), e.getMessage());
            }
        });
    }

    private void readPast(Zenith z, String view) {
        try (Connection c = z.connectProxy(view); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ledger")) {
            rs.next();
            count("past ok");
        } catch (SQLException e) {
            count("past refused " + e.getSQLState());
            refused("past " + e.getSQLState(), e.getMessage());
        }
    }

    /** Remembers a kind of refusal, its names, numbers and paths blanked so that each kind is listed once. */
    private void refused(String what, String message) {
        refusals.add(what + ": " + String.valueOf(message).lines().findFirst().orElse("")
                .replaceAll("\"[^\"]*\"|/[^ :]+|\\b[bt][0-9]\\b|[0-9A-F]+/[0-9A-F]+|\\b[0-9a-f]{8,}\\b|\\b[0-9]+\\b", "X"));
    }

    private void exclusively(List<String> names, Runnable work) {
        List<ReentrantReadWriteLock> held = names.stream().distinct().sorted().map(this::lockOf).toList();
        held.forEach(l -> l.writeLock().lock());
        try {
            work.run();
        } finally {
            held.forEach(l -> l.writeLock().unlock());
        }
    }

    private void shared(String name, Runnable work) {
        ReentrantReadWriteLock lock = lockOf(name);
        lock.readLock().lock();
        try {
            if (acked.containsKey(name)) {
                work.run();
            } else {
                count("skipped: no branch " + name);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private ReentrantReadWriteLock lockOf(String name) {
        return nameLocks.computeIfAbsent(name, n -> new ReentrantReadWriteLock());
    }

    private void count(String outcome) {
        outcomes.computeIfAbsent(outcome, o -> new AtomicInteger()).incrementAndGet();
    }

    private void checkInvariants(Zenith z, long seed) throws Exception {
        String why = "seed " + seed;
        Zenith.Result listed = z.api("GET", "/v1/branches", null);
        assertThat(listed.exit()).as("%s: %s", why, listed.out()).isEqualTo(200);
        Map<String, String> timelineOf = new HashMap<>();
        Json.MAPPER.readTree(listed.out()).forEach(b -> timelineOf.put(b.path("name").asText(), b.path("timelineId").asText()));
        assertThat(timelineOf.keySet()).as("%s: the API and the model name the same branches", why).isEqualTo(acked.keySet());
        for (Map.Entry<String, String> branch : timelineOf.entrySet()) {
            // the branch's own timeline and every ancestor its data is rebuilt from
            for (String id = branch.getValue(); !id.isEmpty(); ) {
                java.nio.file.Path metadata = z.repo().resolve("timelines").resolve(id).resolve("timeline.json");
                assertThat(metadata).as("%s: timeline %s of branch %s's history is on disk", why, id, branch.getKey()).exists();
                JsonNode ancestor = Json.MAPPER.readTree(metadata.toFile()).path("ancestor");
                id = ancestor.isTextual() ? ancestor.asText() : "";
            }
        }

        Map<String, Integer> readWrite = new HashMap<>();
        for (JsonNode node : z.computes()) {
            if (node.path("readOnlyAt").isNull() || node.path("readOnlyAt").isMissingNode()) {
                readWrite.merge(node.path("branch").asText(), 1, Integer::sum);
            }
        }
        assertThat(readWrite.values()).as("%s: at most one read-write compute per branch: %s", why, readWrite).allMatch(n -> n <= 1);

        for (String branch : acked.keySet()) {
            Set<Long> before = rows(z, branch);
            assertThat(before).as("%s: every acknowledged row of %s", why, branch).containsAll(acked.get(branch));
            if (z.compute(branch).isPresent()) {
                z.cli("pg", "stop", branch, "--destroy").ok();
            }
            assertThat(rows(z, branch)).as("%s: %s rebuilt from the repository alone", why, branch).isEqualTo(before);
        }
        z.cli("gc").ok();
        assertThat(z.api("GET", "/v1/branches", null).exit()).isEqualTo(200);
        Set<String> onDisk = new HashSet<>();
        try (var dirs = Files.list(z.repo().resolve("timelines"))) {
            dirs.forEach(d -> onDisk.add(d.getFileName().toString()));
        }
        assertThat(onDisk).as("%s: GC keeps every branch's timeline", why).containsAll(timelineOf.values());
    }

    private static Set<Long> rows(Zenith z, String branch) throws SQLException {
        try (Connection c = z.connectProxy(branch); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM ledger")) {
            Set<Long> ids = new HashSet<>();
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return ids;
        }
    }
}
