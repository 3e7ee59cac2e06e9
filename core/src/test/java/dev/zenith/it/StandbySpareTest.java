package dev.zenith.it;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A running standby started ahead of the next new branch: a branch made at the same point takes it, starts by a
 * promotion alone and keeps a history of its own; the spare is no compute, gives way under maxComputes, and one
 * a dead daemon left is removed by the next.
 */
class StandbySpareTest {

    private static final Pattern READY = Pattern.compile("standby spare (\\S+) on port (\\d+) is ready");

    /** A repository whose main holds one row and is stopped, its data directory kept as an image at its end. */
    private static Zenith withStoppedMain(Map<String, Object> settings) throws Exception {
        Zenith z = Zenith.empty();
        z.init().ok();
        z.configure(settings);
        z.cli("pageserver", "start").ok();
        z.execute(z.start("main"), "CREATE TABLE visits (who text)", "INSERT INTO visits VALUES ('main')");
        z.cli("pg", "stop", "main").ok();
        return z;
    }

    @Test
    void aNewBranchAtTheSamePointTakesTheRunningStandbyAndKeepsItsOwnHistory() throws Exception {
        try (Zenith z = withStoppedMain(Map.of("imageAtStopMb", 1))) {
            z.cli("branch", "first", "main").ok();
            z.execute(z.start("first"), "INSERT INTO visits VALUES ('first')");
            String spare = awaitSpare(z);
            assertThat(z.computes()).extracting(n -> n.path("name").asText()).as("the spare is no compute")
                    .doesNotContain(spare);

            z.cli("branch", "second", "main").ok();
            z.execute(z.start("second"), "INSERT INTO visits VALUES ('second')");
            assertThat(z.daemonLog()).as("main runs no more: its WAL cannot grow, so the spare is a primary already")
                    .contains("a new node takes the standby spare " + spare + " on port")
                    .containsPattern("standby spare " + spare + " on port \\d+ is ready .*, promoted ahead for branches at")
                    .containsPattern("compute " + spare + " started in .* from a standby spare promoted ahead");
            assertThat(z.computes()).filteredOn(n -> n.path("branch").asText().equals("second"))
                    .extracting(n -> n.path("name").asText()).containsExactly(spare);
            assertThat(z.queryText("second", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("main,second");
            assertThat(z.queryText("first", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("first,main");

            // the spare after it is started again, for the next branch at the same point
            String next = awaitSpare(z, 2);
            z.cli("branch", "third", "main").ok();
            assertThat(z.queryText("third", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("main");
            assertThat(z.computes()).filteredOn(n -> n.path("branch").asText().equals("third"))
                    .extracting(n -> n.path("name").asText()).containsExactly(next);

            // a spare may take the name of a deleted branch's node, whose archive link is still kept
            String afterThird = awaitSpare(z, 3);
            z.cli("branch", "delete", "third").ok();
            z.cli("branch", "fourth", "main").ok();
            assertThat(z.queryText("fourth", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("main");
            assertThat(z.computes()).filteredOn(n -> n.path("branch").asText().equals("fourth"))
                    .extracting(n -> n.path("name").asText()).containsExactly(afterThird);
            assertThat(awaitSpare(z, 4)).as("the name third's node had").isEqualTo(next);
            assertThat(z.daemonLog()).doesNotContain("could not start a standby spare");

            // its WAL went to its own archive: a branch of it sees what it wrote
            z.cli("pg", "stop", "second").ok();
            z.cli("branch", "second-child", "second").ok();
            assertThat(z.queryText("second-child", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("main,second");
            assertThat(z.computeLog("second")).doesNotContain("ERROR:");
            try (var archived = java.nio.file.Files.list(z.repo().resolve("timelines").resolve(z.branches().get("second")).resolve("wal"))) {
                assertThat(archived.map(f -> f.getFileName().toString()).toList()).as("the promotion's history, moved into the branch's archive")
                        .anyMatch(f -> f.endsWith(".history"));
            }
        }
    }

    /** While the parent runs, its WAL may grow: the spare stays a standby, and the branch that takes it replays and promotes. */
    @Test
    void aSpareOfARunningParentStaysAStandby() throws Exception {
        try (Zenith z = withStoppedMain(Map.of("imageAtStopMb", 1))) {
            z.cli("branch", "first", "main").ok();
            z.cli("branch", "second", "main").ok();
            z.start("main");
            z.start("first");
            String spare = awaitSpare(z);
            z.execute(z.start("second"), "INSERT INTO visits VALUES ('second')");
            assertThat(z.daemonLog()).contains("a new node takes the standby spare " + spare + " on port")
                    .doesNotContain("promoted ahead")
                    .containsPattern("compute " + spare + " started in .* from a standby spare\\R");
            assertThat(z.queryText("second", "SELECT string_agg(who, ',' ORDER BY who) FROM visits")).isEqualTo("main,second");
        }
    }

    @Test
    void theSpareGivesWayUnderMaxComputesAndOneADeadDaemonLeftIsRemoved() throws Exception {
        try (Zenith z = withStoppedMain(Map.of("imageAtStopMb", 1, "maxComputes", 2))) {
            z.cli("branch", "first", "main").ok();
            z.start("first");
            String spare = awaitSpare(z);
            long sparePid = z.postmasterPid(spare).orElseThrow();

            z.start("main"); // the second compute: no room for a spare beside it
            z.awaitDaemon(Duration.ofSeconds(30), () -> ProcessHandle.of(sparePid).map(p -> !p.isAlive()).orElse(true),
                    "the spare to give way to main");
            assertThat(z.daemonLog()).contains("stopping the standby spare " + spare);
            assertThat(z.repo().resolve("pgdatadirs").resolve(spare)).doesNotExist();

            z.cli("pg", "stop", "main").ok();
            z.cli("pg", "stop", "first").ok();
            z.cli("branch", "second", "main").ok();
            z.start("second");
            String next = awaitSpare(z, 2);
            long nextPid = z.postmasterPid(next).orElseThrow();
            z.kill9Daemon();
            z.cli("pageserver", "start").ok();
            z.awaitDaemon(Duration.ofSeconds(30), () -> ProcessHandle.of(nextPid).map(p -> !p.isAlive()).orElse(true),
                    "the spare the dead daemon left to be stopped");
            assertThat(z.daemonLog()).contains("removing the standby spare " + next + " a daemon left");
            assertThat(z.repo().resolve("pgdatadirs").resolve(next)).doesNotExist();
            assertThat(z.queryText("second", "SELECT count(*) FROM visits")).isEqualTo("1");
        }
    }

    /** spareDiskMb -1: a branch's start copies its image afresh, with neither a spare copy nor a standby made. */
    @Test
    void noSparesWhenTurnedOff() throws Exception {
        try (Zenith z = withStoppedMain(Map.of("imageAtStopMb", 1, "spareDiskMb", -1))) {
            z.cli("branch", "first", "main").ok();
            z.start("first");
            z.cli("branch", "second", "main").ok();
            z.start("second");
            assertThat(z.daemonLog()).doesNotContain("standby spare").doesNotContain("a spare copy of")
                    .containsPattern("prepared pg\\d+ for timeline \\S+ from image");
            assertThat(z.cli("status").ok().out()).contains("spares:      none (spareDiskMb is -1 in config.json)");
            try (var tmp = java.nio.file.Files.list(z.repo().resolve("tmp"))) {
                assertThat(tmp.toList()).as("no spare copies either").isEmpty();
            }
        }
    }

    private static String awaitSpare(Zenith z) {
        return awaitSpare(z, 1);
    }

    /** The name of the {@code nth} spare the daemon made ready. */
    private static String awaitSpare(Zenith z, int nth) {
        z.awaitDaemon(Duration.ofSeconds(60), () -> ready(z).size() >= nth, "standby spare number " + nth);
        return ready(z).get(nth - 1);
    }

    private static List<String> ready(Zenith z) {
        Matcher m = READY.matcher(z.daemonLog());
        List<String> names = new java.util.ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
