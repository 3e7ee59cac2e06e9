package dev.zenith.compute;

import java.util.Map;
import java.util.Set;

/**
 * Where a node's Postgres is in its life in this daemon, as Neon's {@code EndpointStatus}: the one fact the
 * proxy reads to let a client through ({@link #admitsClients}), admission counts, and every start and stop
 * changes. Changed only through {@link NodeStates}, by compare-and-set along the edges below; any other
 * change is a bug and throws.
 *
 * <pre>
 *   STOPPED --reserve--> STARTING --ready--> RUNNING --stop--> STOPPING --stopped--> STOPPED
 *                        STARTING --failed--> STOPPED        STOPPING --a client came (suspend only)--> RUNNING
 * </pre>
 *
 * What the node should be after a daemon restart ({@code wantRunning}, {@code suspended}) is its record's,
 * kept on disk; this state is the process's, known only to the daemon that runs it.
 */
enum NodeState {
    STOPPED, STARTING, RUNNING, STOPPING;

    private static final Map<NodeState, Set<NodeState>> EDGES = Map.of(
            STOPPED, Set.of(STARTING),
            STARTING, Set.of(RUNNING, STOPPED),
            RUNNING, Set.of(STOPPING),
            STOPPING, Set.of(STOPPED, RUNNING));

    boolean mayBecome(NodeState next) {
        return EDGES.get(this).contains(next);
    }

    /** Whether the proxy may hand this node to a client without waiting: nothing starts or stops it now. */
    boolean admitsClients() {
        return this == RUNNING;
    }

    /** Whether it holds a place under {@code maxComputes}. */
    boolean isActive() {
        return this != STOPPED;
    }
}
