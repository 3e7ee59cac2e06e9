package dev.zenith.compute;

import dev.zenith.Locks;
import dev.zenith.ZenithException;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Keeps at most {@code maxComputes} computes active (starting, running or stopping), whoever starts them:
 * a connection, {@code pg start}, a reset, a pull or a daemon bringing computes back. Every start
 * {@link #reserve}s its place; where the caller holds no timeline lock it may first {@link #makeRoom} by
 * suspending the least recently used idle compute. At the limit with none idle, a start is refused
 * (SQLSTATE 53300 through the proxy).
 *
 * <p>{@code lock} makes counting the active computes and moving the new one to
 * {@link NodeState#STARTING} one step, so two starts racing for the last place cannot both take it. It is
 * never held while a victim stops: that takes the victim's timeline lock and up to a minute, and every
 * other start would queue behind it.
 */
final class Admission {

    /** An active compute, as admission weighs it. */
    record Candidate(ComputeNode node, NodeState state, int leases, long lastActiveNanos) {
    }

    private final int maxComputes;
    private final Path configFile;
    private final NodeRegistry registry;
    private final NodeStates states;
    private final Leases leases;
    private final ReentrantLock lock = Locks.newLock("admission");

    Admission(int maxComputes, Path configFile, NodeRegistry registry, NodeStates states, Leases leases) {
        this.maxComputes = maxComputes;
        this.configFile = configFile;
        this.registry = registry;
        this.states = states;
        this.leases = leases;
    }

    /**
     * The computes that may be suspended to make room, best first: running ones no client holds, least
     * recently used first.
     */
    static List<ComputeNode> victims(List<Candidate> active) {
        return active.stream().filter(c -> c.state() == NodeState.RUNNING && c.leases() == 0)
                .sorted(Comparator.comparingLong(Candidate::lastActiveNanos)).map(Candidate::node).toList();
    }

    /**
     * At the limit, suspends an idle compute so that {@code node} can start; {@code suspendIfIdle} suspends a
     * victim unless a client came meanwhile, and takes the victim's timeline lock: the caller holds none.
     * A start racing this one may still take the place; {@link #reserve} then refuses.
     */
    void makeRoom(ComputeNode node, Predicate<ComputeNode> suspendIfIdle) {
        List<ComputeNode> victims;
        lock.lock();
        try {
            List<Candidate> active = active(node);
            if (active.size() < maxComputes) {
                return;
            }
            victims = victims(active);
        } finally {
            lock.unlock();
        }
        if (victims.stream().noneMatch(suspendIfIdle)) {
            throw full();
        }
    }

    /** Moves a stopped {@code node} to {@link NodeState#STARTING} if the limit allows it; refused otherwise. */
    void reserve(ComputeNode node) {
        lock.lock();
        try {
            if (active(node).size() >= maxComputes) {
                throw full();
            }
            states.require(node.name(), NodeState.STOPPED, NodeState.STARTING);
        } finally {
            lock.unlock();
        }
    }

    int maxComputes() {
        return maxComputes;
    }

    /** Whether one more Postgres fits under maxComputes: a standby spare runs only while one does. */
    boolean hasRoom() {
        return registry.all().stream().filter(n -> states.of(n.name()).isActive()).count() < maxComputes;
    }

    private List<Candidate> active(ComputeNode besides) {
        return registry.all().stream().filter(n -> !n.name().equals(besides.name())).map(n -> {
            Leases.Activity activity = leases.of(n.name());
            return new Candidate(n, states.of(n.name()), activity.leases(), activity.lastActiveNanos());
        }).filter(c -> c.state().isActive()).toList();
    }

    private ZenithException full() {
        return ZenithException.limit("too many computes running: maxComputes is " + maxComputes
                        + " and none of the running ones is idle",
                "disconnect the clients of another branch, stop one with zenith pg stop NAME, or raise"
                        + " maxComputes in " + configFile);
    }
}
