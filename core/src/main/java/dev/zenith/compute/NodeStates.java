package dev.zenith.compute;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@link NodeState} of every node, by name, as HikariCP's bag entries: each changes only by
 * compare-and-set, so of two racing changes exactly one wins and the other sees it lost. Lock-free; a node
 * with no entry is {@link NodeState#STOPPED}. Starts and stops make their changes while holding the node's
 * timeline lock; the proxy's read and a suspend's abandoned stop need none.
 */
final class NodeStates {

    private final Map<String, AtomicReference<NodeState>> states = new ConcurrentHashMap<>();

    NodeState of(String node) {
        AtomicReference<NodeState> state = states.get(node);
        return state == null ? NodeState.STOPPED : state.get();
    }

    /** Moves {@code node} from {@code from} to {@code to}; false when it was not in {@code from}. */
    boolean change(String node, NodeState from, NodeState to) {
        if (!from.mayBecome(to)) {
            throw new IllegalStateException("compute " + node + " cannot go from " + from + " to " + to);
        }
        return states.computeIfAbsent(node, n -> new AtomicReference<>(NodeState.STOPPED)).compareAndSet(from, to);
    }

    /** Moves {@code node} from {@code from} to {@code to}; that it is in {@code from} is the caller's invariant. */
    void require(String node, NodeState from, NodeState to) {
        if (!change(node, from, to)) {
            throw new IllegalStateException("compute " + node + " is " + of(node) + ", not " + from + ", on its way to " + to);
        }
    }

    /** Forgets a removed node. */
    void forget(String node) {
        states.remove(node);
    }
}
