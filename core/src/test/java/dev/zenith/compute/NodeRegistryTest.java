package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repositories;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Node names, ports, records and the one lookup by node or branch name. */
class NodeRegistryTest {

    @TempDir
    Path dir;

    private Repository repository;
    private Timeline main;

    private void init() {
        repository = Repositories.withRoot(dir, "0/1000028");
        main = repository.requireBranch(BranchName.MAIN);
    }

    private Timeline branch(String name) {
        return repository.createBranch(new BranchName(name), main, new WalPoint(Lsn.parse("0/1000028"), 1), null, null);
    }

    @Test
    void nodesAreNamedPg1Pg2AndTakeFreePortsFromTheBase() throws IOException {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        ComputeNode first = registry.register(main, BranchName.MAIN, null, null, null);
        try (ServerSocket taken = bindFrom(first.port() + 1)) {
            ComputeNode second = registry.register(branch("b"), new BranchName("b"), null, null, null);
            assertThat(first.name()).isEqualTo("pg1");
            assertThat(second.name()).isEqualTo("pg2");
            assertThat(second.port()).isGreaterThan(first.port()).as("skips the port another program holds")
                    .isNotEqualTo(taken.getLocalPort());
        }
    }

    /** Holds the first free port from {@code port} up, as another program would. */
    private static ServerSocket bindFrom(int port) throws IOException {
        for (int p = port; ; p++) {
            ServerSocket socket = new ServerSocket();
            try {
                socket.bind(new InetSocketAddress("127.0.0.1", p));
                return socket;
            } catch (IOException inUse) {
                socket.close();
            }
        }
    }

    @Test
    void aBranchHasAtMostOneReadWriteNode() {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        registry.register(main, BranchName.MAIN, null, null, null);
        assertThatThrownBy(() -> registry.register(main, BranchName.MAIN, "other", null, null))
                .hasMessageContaining("branch \"main\" already has compute node pg1");
    }

    @Test
    void aPortAnotherNodeUsesIsRefused() {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        ComputeNode first = registry.register(main, BranchName.MAIN, null, null, null);
        assertThatThrownBy(() -> registry.register(branch("b"), new BranchName("b"), null, first.port(), null))
                .hasMessageContaining("is already used by compute node pg1");
        assertThatThrownBy(() -> registry.register(branch("c"), new BranchName("c"), null, 70000, null))
                .hasMessageContaining("invalid port 70000");
    }

    @Test
    void aNodeIsFoundByItsNameOrItsBranchs() {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        ComputeNode node = registry.register(branch("feature"), new BranchName("feature"), "mine", null, null);
        assertThat(registry.lookup("mine")).contains(node);
        assertThat(registry.lookup("feature")).contains(node);
        assertThat(registry.lookup("main")).isEmpty();
        assertThatThrownBy(() -> registry.require("nope")).isInstanceOf(ZenithException.class)
                .hasMessageContaining("compute node \"nope\" does not exist");
        assertThatThrownBy(() -> registry.lookup("../x")).hasMessageContaining("invalid node or branch name");
    }

    @Test
    void savedNodesComeBackWithTheirModeAndWhoStartedThem() {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        ComputeNode rw = registry.register(main, BranchName.MAIN, null, null, "5m").started(StartedBy.CONNECTION, null);
        registry.save(rw);
        ComputeNode ro = registry.registerReadOnly(main.id(), new WalPoint(Lsn.parse("0/1000028"), 1), "30s");
        registry.save(ro);
        NodeRegistry reloaded = new NodeRegistry(repository);
        assertThat(reloaded.get(rw.name())).contains(rw);
        assertThat(reloaded.get(ro.name())).contains(ro);
        assertThat(reloaded.get(ro.name()).orElseThrow().mode()).isInstanceOf(ComputeMode.ReadOnly.class);
        assertThat(reloaded.registerReadOnly(main.id(), new WalPoint(Lsn.parse("0/1000028"), 1), "30s"))
                .as("one view per point").isEqualTo(ro);
    }

    @Test
    void recordsOfEarlierVersionsStillLoad() throws IOException {
        init();
        Files.writeString(repository.computesDir().resolve("pg7.json"), """
                {"name": "pg7", "timeline": "%s", "port": 55439, "createdAt": "2026-11-01T10:00:00Z",
                 "wantRunning": false, "idleTimeout": null, "onDemand": true, "suspended": true,
                 "readOnlyAt": null, "readOnlyTli": 0}
                """.formatted(main.id().value()));
        ComputeNode node = new NodeRegistry(repository).require("pg7");
        assertThat(node.suspended()).isTrue();
        assertThat(node.startedBy()).isEqualTo(StartedBy.CONNECTION);
        assertThat(node.mode()).isEqualTo(ComputeMode.READ_WRITE);
    }

    @Test
    void logsAreFoundWithoutTheDaemonAndAMissingComputeIsExplained() {
        init();
        NodeRegistry registry = new NodeRegistry(repository);
        registry.save(registry.register(main, BranchName.MAIN, null, null, null));
        branch("quiet");
        assertThat(NodeRegistry.logFile(repository, "main")).isEqualTo(repository.logsDir().resolve("compute-pg1.log"));
        assertThat(NodeRegistry.logFile(repository, "pg1")).isEqualTo(repository.logsDir().resolve("compute-pg1.log"));
        assertThatThrownBy(() -> NodeRegistry.logFile(repository, "quiet")).hasMessageContaining("has no compute yet");
        assertThatThrownBy(() -> NodeRegistry.logFile(repository, "ghost")).hasMessageContaining("no compute node or branch");
    }
}
