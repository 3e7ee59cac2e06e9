package dev.zenith.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon or a compute killed with -9 in the middle of things, with a client-side ledger of
 * acknowledged commits: after a restart nothing half-made is visible, the interrupted operation can
 * be repeated, and no acknowledged commit is lost. Failpoints stop the daemon exactly where an
 * operation is half done (dev.zenith.Failpoints).
 */
class CrashTest {

    private Zenith z;

    @BeforeEach
    void setUp() {
        z = Zenith.empty();
        z.init().ok();
        // a clean stop after 1 MiB of new WAL keeps the data directory as an image
        z.configure(Map.of("imageAtStopMb", 1, "retention", "0s"));
        z.cli("pageserver", "start").ok();
    }

    @AfterEach
    void tearDown() {
        z.close();
    }

    private Ledger.Connector proxy(String branch) {
        return () -> z.connectProxy(branch);
    }

    @Test
    void killedWhileMakingTheComputeOfANewBranch() throws Exception {
        try (Ledger ledger = firstConnectionToANewBranchKilledAt("compute-staged")) {
            assertThat(z.leftInTmp()).as("staging left by the crash").isEmpty();
            assertThat(z.computesOf("child")).noneMatch(n -> n.path("state").asText().equals("running"));
            assertThat(ledger.lost(proxy("child"))).isZero(); // made again, from the start
            assertThat(ledger.lost(proxy("main"))).isZero();
        }
    }

    @Test
    void killedWhileTheComputeOfANewBranchRecovers() throws Exception {
        try (Ledger ledger = firstConnectionToANewBranchKilledAt("compute-recovering")) {
            assertThat(ledger.lost(proxy("child"))).isZero();
            ledger.write(proxy("child"), 10);
            assertThat(ledger.lost(proxy("child"))).isZero();
            assertThat(z.computesOf("child")).as("one compute per branch").hasSize(1);
        }
    }

    /** 300 commits on main, a branch "child", its first connection killed with the daemon at a failpoint, the daemon restarted. */
    private Ledger firstConnectionToANewBranchKilledAt(String failpoint) throws Exception {
        Ledger ledger = new Ledger(z, proxy("main"), "ledger");
        ledger.write(proxy("main"), 300);
        z.cli("branch", "child", "main").ok();
        z.armFailpoint(failpoint);
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> connectOnce("child"));
        z.killDaemonAtFailpoint(failpoint);
        assertThat(first).failsWithin(java.time.Duration.ofSeconds(60));
        z.cli("pageserver", "start").ok();
        return ledger;
    }

    @Test
    void killedWhileMakingAnImage() throws Exception {
        int port = z.start("main");
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            ledger.write(port, 100);
            z.cli("pg", "stop", "main").ok(); // the first image at stop
            z.start("main");
            port = z.port("main");
            z.execute(port, "CREATE TABLE bulk AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 20000) g");
            ledger.write(port, 100);
            List<String> imagesBefore = images();
            z.armFailpoint("image-staged");
            CompletableFuture<Zenith.Result> stop = CompletableFuture.supplyAsync(() -> z.cli("pg", "stop", "main"));
            z.killDaemonAtFailpoint("image-staged");
            assertThat(stop.get().exit()).isNotZero();
            z.cli("pageserver", "start").ok();
            assertThat(images()).as("no half-made image").isEqualTo(imagesBefore);
            assertThat(z.leftInTmp()).isEmpty();
            port = z.start("main");
            assertThat(ledger.lost(port)).isZero();
            z.execute(port, "INSERT INTO bulk SELECT g, repeat('y', 500) FROM generate_series(1, 5000) g");
            z.cli("pg", "stop", "main").ok(); // the image is made this time
            assertThat(images()).hasSize(imagesBefore.size() + 1);
            z.cli("branch", "from_image", "main").ok();
            assertThat(ledger.lost(proxy("from_image"))).isZero();
        }
    }

    @Test
    void killedDuringGarbageCollection() throws Exception {
        int port = z.start("main");
        try (Ledger ledger = new Ledger(z, port, "ledger")) {
            for (int round = 0; round < 3; round++) {
                ledger.write(port, 50);
                z.execute(port, "CREATE TABLE IF NOT EXISTS bulk AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 5000) g",
                        "INSERT INTO bulk SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g");
                z.cli("pg", "stop", "main").ok(); // an image each time, and older WAL and images to collect
                port = z.start("main");
            }
            ledger.write(port, 50);
            z.cli("pg", "stop", "main").ok();
            z.armFailpoint("gc-removing");
            CompletableFuture<Zenith.Result> gc = CompletableFuture.supplyAsync(() -> z.cli("gc"));
            z.killDaemonAtFailpoint("gc-removing");
            assertThat(gc.get().exit()).isNotZero();
            z.cli("pageserver", "start").ok();
            assertThat(z.leftInTmp()).isEmpty();
            assertThat(z.cli("gc").ok().out()).contains("gc: removed");
            assertThat(ledger.lost(proxy("main"))).isZero();
            z.cli("branch", "after_gc", "main").ok();
            assertThat(ledger.lost(proxy("after_gc"))).isZero();
        }
    }

    @Test
    void aComputeKilledUnderLoadThroughTheProxyComesBackOnTheNextConnection() throws Exception {
        try (Ledger ledger = new Ledger(z, proxy("main"), "ledger")) {
            ledger.startWriting(proxy("main"));
            ledger.awaitAcknowledged(300);
            z.kill9Postmaster("pg1");
            ledger.stopWriting();
            assertThat(ledger.lost(proxy("main"))).isZero();
            ledger.write(proxy("main"), 50);
            assertThat(ledger.lost(proxy("main"))).isZero();
        }
    }

    @Test
    void theDaemonKilledUnderLoadThroughTheProxyLosesNothingAndClientsReconnect() throws Exception {
        z.cli("branch", "other", "main").ok();
        try (Ledger onMain = new Ledger(z, proxy("main"), "ledger");
             Ledger onOther = new Ledger(z, proxy("other"), "ledger")) {
            onMain.startWriting(proxy("main"));
            onOther.startWriting(proxy("other"));
            onMain.awaitAcknowledged(200);
            onOther.awaitAcknowledged(200);
            z.kill9Daemon();
            onMain.stopWriting(); // their sessions went with the proxy
            onOther.stopWriting();
            z.cli("pageserver", "start").ok();
            assertThat(onMain.lost(proxy("main"))).isZero();
            assertThat(onOther.lost(proxy("other"))).isZero();
            onMain.write(proxy("main"), 20);
            onOther.write(proxy("other"), 20);
            assertThat(onMain.lost(proxy("main"))).isZero();
            assertThat(onOther.lost(proxy("other"))).isZero();
        }
    }

    private void connectOnce(String branch) {
        try (Connection c = z.connectProxy(branch)) {
            c.isValid(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> images() throws Exception {
        String main = z.repository().branch(dev.zenith.BranchName.MAIN).orElseThrow().id().value();
        try (Stream<Path> s = Files.list(z.repo().resolve("timelines").resolve(main).resolve("images"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
