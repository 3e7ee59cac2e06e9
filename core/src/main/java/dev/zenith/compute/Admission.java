package dev.zenith.compute;

import dev.zenith.Locks;
import dev.zenith.ZenithException;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Keeps at most {@code maxComputes} computes running: a start at the limit suspends the least recently
 * used idle compute, or is refused (SQLSTATE 53300 through the proxy) when none is idle.
 *
 * <p>{@code lock} makes counting the active computes and marking the new one as starting one step, so
 * two starts racing for the last place cannot both take it.
 */
final class Admission {

    /** A running or starting compute, as admission weighs it. */
    record Candidate(ComputeNode node, boolean starting, int leases, long lastActiveNanos) {
    }

    private final int maxComputes;
    private final Path configFile;
    private final NodeRegistry registry;
    private final Leases leases;
    private final ReentrantLock lock = Locks.newLock("admission");

    Admission(int maxComputes, Path configFile, NodeRegistry registry, Leases leases) {
        this.maxComputes = maxComputes;
        this.configFile = configFile;
        this.registry = registry;
        this.leases = leases;
    }

    /**
     * The computes that may be suspended to make room, best first: those no client holds and that are
     * not starting, least recently used first.
     */
    static List<ComputeNode> victims(List<Candidate> active) {
        return active.stream().filter(c -> !c.starting() && c.leases() == 0)
                .sorted(Comparator.comparingLong(Candidate::lastActiveNanos)).map(Candidate::node).toList();
    }

    /**
     * Makes room for {@code node} and marks it starting; the caller ends the mark with
     * {@link Leases#doneStarting}. {@code suspendIfIdle} suspends a victim unless a client came meanwhile.
     */
    void admit(ComputeNode node, Predicate<ComputeNode> suspendIfIdle) {
        lock.lock();
        try {
            List<Candidate> active = registry.all().stream()
                    .filter(n -> !n.name().equals(node.name()) && (leases.isStarting(n.name()) || registry.paths(n).isRunning()))
                    .map(n -> new Candidate(n, leases.isStarting(n.name()), leases.of(n.name()).leases(),
                            leases.of(n.name()).lastActiveNanos()))
                    .toList();
            if (active.size() >= maxComputes) {
                Optional<ComputeNode> victim = victims(active).stream().filter(suspendIfIdle).findFirst();
                if (victim.isEmpty()) {
                    throw ZenithException.limit("too many computes running: maxComputes is " + maxComputes
                                    + " and none of the running ones is idle",
                            "disconnect the clients of another branch, stop one with zenith pg stop NAME, or raise"
                                    + " maxComputes in " + configFile);
                }
            }
            leases.markStarting(node.name());
        } finally {
            lock.unlock();
        }
    }

    int maxComputes() {
        return maxComputes;
    }
}
