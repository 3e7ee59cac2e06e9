package dev.zenith.it;

import dev.zenith.BranchName;
import dev.zenith.storage.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ARCHITECTURE.md invariants 5 (a branch comes back from the repository alone) and 6 (no acknowledged
 * commit lost by pg stop, kill -9 of a compute, or kill -9 of the daemon).
 */
class DurabilityTest {

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
    void branchComesBackFromTheRepositoryAloneWithEveryCommit() throws Exception {
        int main = z.start("main");
        // More than a WAL segment, so the rebuild reads archived segments and the captured open one.
        z.execute(main, "CREATE TABLE filler AS SELECT g, repeat('y', 200) AS pad FROM generate_series(1, 120000) g");
        z.cli("branch", "dev", "main").ok();
        int dev = z.start("dev");
        try (Ledger ledger = new Ledger(z, dev, "ledger")) {
            ledger.write(dev, 300);
            z.cli("branch", "dev_child", "dev").ok();
            ledger.write(dev, 100);
            z.cli("pg", "stop", "dev").ok();

            FileTrees.deleteTree(z.repo().resolve("pgdatadirs").resolve("pg2"));
            Path log = z.repo().resolve("logs").resolve("compute-pg2.log");
            long logBefore = Files.size(log);
            dev = z.start("dev");
            assertThat(ledger.lost(dev)).isZero();
            // recovery to the end of the WAL ended by a promotion: its checkpoint ran in the background
            String rebuild = Files.readString(log).substring((int) logBefore);
            assertThat(rebuild).contains("received promote request").doesNotContain("end-of-recovery immediate wait");
            assertThat(z.queryLong(dev, "SELECT count(*) FROM filler")).isEqualTo(120000);

            ledger.write(dev, 100);
            z.cli("pg", "stop", "dev", "--destroy").ok();
            assertThat(z.repo().resolve("pgdatadirs").resolve("pg2")).doesNotExist();
            dev = z.start("dev");
            assertThat(ledger.lost(dev)).isZero();
            assertThat(z.queryLong(dev, "SELECT count(*) FROM ledger")).isEqualTo(ledger.acknowledged());

            // the child, made while dev ran, shows dev at that point: 300 rows
            assertThat(z.queryLong(z.start("dev_child"), "SELECT count(*) FROM ledger")).isEqualTo(300);
        }
        // and main itself, rebuilt from its initdb image and all its WAL
        z.cli("pg", "stop", "main", "--destroy").ok();
        assertThat(z.queryLong(z.start("main"), "SELECT count(*) FROM filler")).isEqualTo(120000);
    }

    @Test
    void pgStopAndStartLoseNothing() throws Exception {
        int port = z.start("main");
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            for (int round = 0; round < 3; round++) {
                ledger.write(port, 200);
                z.cli("pg", "stop", "main").ok();
                port = z.start("main");
                assertThat(ledger.lost(port)).isZero();
            }
        }
    }

    @Test
    void killingAComputeUnderLoadLosesNoAcknowledgedCommit() throws Exception {
        int port = z.start("main");
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            ledger.startWriting(port);
            ledger.awaitAcknowledged(500);
            z.kill9Postmaster("pg1");
            ledger.stopWriting();
            port = z.start("main");
            assertThat(ledger.acknowledged()).isGreaterThanOrEqualTo(500);
            assertThat(ledger.lost(port)).isZero();
            // and the crashed compute's WAL reaches the repository: a branch made now has it all
            z.cli("pg", "stop", "main").ok();
            z.cli("branch", "after_crash", "main").ok();
            assertThat(ledger.lost(z.start("after_crash"))).isZero();
        }
    }

    @Test
    void killingTheDaemonUnderLoadLosesNothingAndComputesAreAdopted() throws Exception {
        int port = z.start("main");
        long postmaster = z.postmasterPid("pg1").orElseThrow();
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            ledger.startWriting(port);
            ledger.awaitAcknowledged(200);
            z.kill9Daemon();
            int before = ledger.acknowledged();
            ledger.awaitAcknowledged(before + 200); // the compute does not depend on the daemon
            z.cli("pageserver", "start").ok();
            assertThat(z.postmasterPid("pg1")).as("the running compute is adopted, not restarted").contains(postmaster);
            var pg1 = z.compute("pg1").orElseThrow();
            assertThat(pg1.path("branch").asText()).isEqualTo("main");
            assertThat(pg1.path("state").asText()).isEqualTo("running");
            ledger.stopWriting();
            assertThat(ledger.lost(port)).isZero();
            z.cli("branch", "after_daemon_kill", "main").ok();
            assertThat(ledger.lost(z.start("after_daemon_kill"))).isZero();
        }
    }

    @Test
    void computeThatDiedWhileTheDaemonWasDownIsRestarted() throws Exception {
        int port = z.start("main");
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            ledger.write(port, 100);
            z.kill9Daemon();
            z.kill9Postmaster("pg1");
            z.cli("pageserver", "start").ok();
            assertThat(z.postmasterPid("pg1")).isPresent();
            assertThat(ledger.lost(port)).isZero();
        }
        assertThat(z.repository().branches().get(BranchName.MAIN)).isPresent();
    }
}
