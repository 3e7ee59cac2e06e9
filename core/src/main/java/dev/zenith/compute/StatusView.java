package dev.zenith.compute;

import dev.zenith.IdleTimeout;
import dev.zenith.Lsn;
import dev.zenith.model.ComputeState;
import dev.zenith.model.ComputeStatus;
import dev.zenith.storage.Repository;

import java.nio.file.Files;
import java.util.Optional;
import java.util.OptionalLong;

/** What {@code zenith pg list} shows of a node: its state, where its WAL stands, its clients and idle time. */
final class StatusView {

    private final Repository repository;
    private final NodeRegistry registry;
    private final Leases leases;
    private final NodeStates states;
    private final ComputeSql sql;
    private final String osUser;

    StatusView(Repository repository, NodeRegistry registry, Leases leases, NodeStates states, ComputeSql sql, String osUser) {
        this.repository = repository;
        this.registry = registry;
        this.leases = leases;
        this.states = states;
        this.sql = sql;
        this.osUser = osUser;
    }

    /**
     * The state a node's files and marks show; a running one that does not answer yet is still starting, and
     * one whose Postgres never ran on its data directory (made by {@code pg create}, or not yet) is new.
     */
    static ComputeState state(boolean starting, boolean running, boolean answers, boolean suspended, boolean everStarted) {
        if (starting || (running && !answers)) {
            return ComputeState.STARTING;
        }
        return running ? ComputeState.RUNNING : suspended ? ComputeState.SUSPENDED : everStarted ? ComputeState.STOPPED : ComputeState.NEW;
    }

    ComputeStatus of(ComputeNode node) {
        NodePaths paths = registry.paths(node);
        OptionalLong pid = paths.pid();
        Optional<Lsn> position = pid.isPresent() ? sql.position(node) : Optional.empty();
        Lsn lsn = position.orElseGet(() -> repository.timeline(node.timeline()).metadata().lastLsn());
        ComputeState state = state(states.of(node.name()) == NodeState.STARTING, pid.isPresent(), position.isPresent(), node.suspended(),
                // the postmaster writes postmaster.opts at every start, and images leave it out
                Files.exists(paths.dataDir().resolve("postmaster.opts")));
        Integer connections = null;
        Long idleSeconds = null;
        if (pid.isPresent()) {
            Leases.Activity a = leases.of(node.name());
            connections = a.connections();
            idleSeconds = connections == 0 ? (System.nanoTime() - a.lastActiveNanos()) / 1_000_000_000L : 0L;
        }
        return status(node, state, pid.isPresent() ? pid.getAsLong() : null, lsn, connections, idleSeconds,
                node.effectiveIdleTimeout(repository.config().idleTimeout()).toString());
    }

    /** A node just removed ({@code pg stop --destroy}). */
    ComputeStatus destroyed(ComputeNode node) {
        return status(node, ComputeState.DESTROYED, null, repository.timeline(node.timeline()).metadata().lastLsn(), null, null, null);
    }

    private ComputeStatus status(ComputeNode node, ComputeState state, Long pid, Lsn lsn, Integer connections,
                                 Long idleSeconds, String idleTimeout) {
        return new ComputeStatus(node.name(), registry.branchOf(node), node.timeline(), "127.0.0.1", node.port(), state,
                pid, lsn, registry.paths(node).dataDir(), osUser, connections, idleSeconds, idleTimeout,
                node.mode() instanceof ComputeMode.ReadOnly r ? r.at().lsn() : null);
    }
}
