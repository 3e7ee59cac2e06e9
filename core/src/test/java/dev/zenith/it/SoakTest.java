package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded soak: stop-and-go writers whose computes are suspended between bursts and resumed by the
 * next connection, readers, and branch churn, all through the proxy, for {@code zenith.soak.seconds}
 * (90 in the test suite; {@code bench/soak.sh} runs 600). Afterwards no acknowledged commit is lost,
 * every compute was suspended and resumed many times, and the daemon's threads, file descriptors and
 * memory stayed within stated bounds of what they were after warming up.
 */
class SoakTest {

    static final int MAX_EXTRA_THREADS = 20;
    static final int MAX_EXTRA_FDS = 40;
    static final long MAX_EXTRA_RSS_MB = 150;

    record Sample(int threads, int fds, long rssMb) {
        static Sample of(long pid) throws Exception {
            int threads = 0;
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.split("\\s+")[1]);
                } else if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.split("\\s+")[1]) / 1024;
                }
            }
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                return new Sample(threads, (int) fds.count(), rss);
            }
        }
    }

    @Test
    void stopAndGoLoadWithSuspendsAndBranchChurnLosesNothingAndLeaksNothing() throws Exception {
        long seconds = Long.getLong("zenith.soak.seconds", 90);
        try (Zenith z = Zenith.empty()) {
            z.init("--idle-timeout", "1s").ok();
            z.cli("pageserver", "start").ok();
            List<String> writers = List.of("main", "w1", "w2");
            z.cli("branch", "w1", "main").ok();
            z.cli("branch", "w2", "main").ok();
            List<Ledger> ledgers = new ArrayList<>();
            for (String b : writers) {
                ledgers.add(new Ledger(z, () -> z.connectProxy(b), "ledger"));
            }
            long pid = z.daemonPid().orElseThrow();
            warmUp(z, writers, ledgers);
            Sample before = Sample.of(pid);

            long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            int cycles = 0;
            int churned = 0;
            while (System.nanoTime() < deadline) {
                // go: a burst of commits on every writer branch, each resuming a suspended compute
                for (int i = 0; i < writers.size(); i++) {
                    String b = writers.get(i);
                    ledgers.get(i).write(() -> z.connectProxy(b), 50);
                }
                // churn: a branch made, read through the proxy, deleted
                String temp = "churn_" + churned++;
                z.cli("branch", temp, writers.get(churned % writers.size())).ok();
                try (Connection c = z.connectProxy(temp); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM ledger")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isPositive();
                }
                z.cli("branch", "delete", temp).ok();
                // stop: nobody connected until the writers' computes are suspended
                Zenith.waitFor(Duration.ofSeconds(60), () -> writers.stream().allMatch(b -> state(z, b).equals("suspended")),
                        "every writer's compute to be suspended");
                cycles++;
            }
            Sample after = Sample.of(pid);
            long lost = 0;
            int acknowledged = 0;
            for (int i = 0; i < writers.size(); i++) {
                String b = writers.get(i);
                lost += ledgers.get(i).lost(() -> z.connectProxy(b));
                acknowledged += ledgers.get(i).acknowledged();
            }
            System.out.printf("soak %d s: %d suspend/resume cycles of %d computes, %d branches churned, %d commits, %d lost;"
                            + " daemon threads %d -> %d, fds %d -> %d, RSS %d -> %d MB%n", seconds, cycles, writers.size(),
                    churned, acknowledged, lost, before.threads(), after.threads(), before.fds(), after.fds(),
                    before.rssMb(), after.rssMb());
            assertThat(lost).isZero();
            assertThat(cycles).isGreaterThanOrEqualTo(3);
            assertThat(after.threads()).isLessThanOrEqualTo(before.threads() + MAX_EXTRA_THREADS);
            assertThat(after.fds()).isLessThanOrEqualTo(before.fds() + MAX_EXTRA_FDS);
            assertThat(after.rssMb()).isLessThanOrEqualTo(before.rssMb() + MAX_EXTRA_RSS_MB);
            for (Ledger l : ledgers) {
                l.close();
            }
        }
    }

    /** One full cycle first, so the samples compare steady states rather than a cold JVM. */
    private static void warmUp(Zenith z, List<String> writers, List<Ledger> ledgers) throws Exception {
        for (int i = 0; i < writers.size(); i++) {
            String b = writers.get(i);
            ledgers.get(i).write(() -> z.connectProxy(b), 20);
        }
        z.cli("branch", "warm", "main").ok();
        z.cli("branch", "delete", "warm").ok();
        Zenith.waitFor(Duration.ofSeconds(60), () -> writers.stream().allMatch(b -> state(z, b).equals("suspended")),
                "every writer's compute to be suspended");
    }

    private static String state(Zenith z, String branch) {
        try {
            for (JsonNode n : Json.MAPPER.readTree(z.cli("pg", "list", "--json").ok().out())) {
                if (n.path("branch").asText().equals(branch) && n.path("readOnlyAt").isNull()) {
                    return n.get("state").asText();
                }
            }
            return "none";
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
