package dev.zenith.compute;

import dev.zenith.IdleTimeout;
import dev.zenith.storage.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Suspends computes nobody uses: those idle for their idle timeout (checked by the daemon's idle task),
 * and victims admission picks to make room. A suspended read-write compute keeps its data directory as a
 * cache; a read-only view is removed. Follows the protocol described in {@link Leases}.
 */
final class Suspender {

    private static final Logger log = LoggerFactory.getLogger(Suspender.class);

    private final Repository repository;
    private final NodeRegistry registry;
    private final TimelineLocks locks;
    private final Leases leases;
    private final NodeStates states;
    private final ComputeSql sql;
    private final NodeLifecycle lifecycle;

    Suspender(Repository repository, NodeRegistry registry, TimelineLocks locks, Leases leases, NodeStates states, ComputeSql sql,
              NodeLifecycle lifecycle) {
        this.repository = repository;
        this.registry = registry;
        this.locks = locks;
        this.leases = leases;
        this.states = states;
        this.sql = sql;
        this.lifecycle = lifecycle;
    }

    /** Whether a compute idle for {@code idleNanos} has outlived {@code timeout}. */
    static boolean isDue(IdleTimeout timeout, long idleNanos) {
        return !timeout.isNever() && idleNanos >= timeout.duration().orElseThrow().toNanos();
    }

    /** Suspends running computes that have had no client, through the proxy or direct, for their idle timeout. */
    void suspendIdle(IdleTimeout repositoryDefault) {
        for (ComputeNode node : registry.all()) {
            if (states.of(node.name()) != NodeState.RUNNING) {
                continue;
            }
            Leases.Activity a = leases.of(node.name());
            int clients = a.clientsAmong(sql.clientBackends(node));
            a.sawClients(clients);
            if (a.leases() > 0 || clients != 0) {
                a.touch();
                continue;
            }
            IdleTimeout timeout = node.effectiveIdleTimeout(repositoryDefault);
            if (isDue(timeout, System.nanoTime() - a.lastActiveNanos())) {
                suspendIfIdle(node, "idle for " + timeout);
            }
        }
    }

    /** Suspends a compute unless it stopped meanwhile or a client holds it; true when it did. */
    boolean suspendIfIdle(ComputeNode node, String why) {
        return locks.withLock(node.timeline(), () -> {
            ComputeNode current = registry.get(node.name()).orElse(null);
            if (current == null || !states.change(current.name(), NodeState.RUNNING, NodeState.STOPPING)) {
                return false;
            }
            Leases.Activity a = leases.of(current.name());
            if (a.leases() > 0 || a.clientsAmong(sql.clientBackends(current)) != 0) {
                states.require(current.name(), NodeState.STOPPING, NodeState.RUNNING);
                return false;
            }
            log.info("suspending compute {}: {}", current.name(), why);
            if (current.isReadOnly()) {
                lifecycle.destroy(current, repository.timeline(current.timeline()));
            } else {
                lifecycle.stop(current, repository.timeline(current.timeline()));
                registry.save(current.asSuspended());
            }
            return true;
        });
    }
}
