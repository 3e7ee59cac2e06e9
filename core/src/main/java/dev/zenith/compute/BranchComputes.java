package dev.zenith.compute;

import dev.zenith.TimelineId;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Timeline;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The seam between what changes a branch (create at its head, delete, reset, pull, push) and its
 * computes: those operations ask for these steps and never reach into {@link NodeRegistry},
 * {@link NodeLifecycle} or {@link Leases} themselves, so a compute's state changes only in the
 * lifecycle. Callers hold the branch's timeline lock ({@link TimelineLocks}); this class holds no state.
 */
final class BranchComputes {

    private final NodeRegistry registry;
    private final NodeLifecycle lifecycle;
    private final Leases leases;
    private final TimelineLocks locks;

    BranchComputes(NodeRegistry registry, NodeLifecycle lifecycle, Leases leases, TimelineLocks locks) {
        this.registry = registry;
        this.lifecycle = lifecycle;
        this.leases = leases;
        this.locks = locks;
    }

    /** A branch's read-write compute while its Postgres runs: SQL goes to it, its log is named in errors. */
    record Running(ComputeNode node, Path logFile) {
    }

    /** The branch's read-write compute if its Postgres runs; else its WAL's end is settled, so the timeline knows it. */
    Optional<Running> runningOrSettled(Timeline timeline) {
        Optional<ComputeNode> node = registry.readWriteNodeOf(timeline.id());
        if (node.isPresent() && registry.paths(node.get()).isRunning()) {
            return Optional.of(new Running(node.get(), registry.paths(node.get()).logFile()));
        }
        node.ifPresent(n -> lifecycle.settle(n, timeline));
        return Optional.empty();
    }

    /** The branch's read-write compute if its Postgres runs, as it is. */
    Optional<Running> running(TimelineId timeline) {
        return registry.readWriteNodeOf(timeline).filter(n -> registry.paths(n).isRunning())
                .map(n -> new Running(n, registry.paths(n).logFile()));
    }

    /**
     * Stops the branch's read-write compute, if any, so its timeline can change under it (a reset makes a
     * new one, a pull adds WAL): clean stop, WAL saved, clients waiting meanwhile.
     */
    Paused pause(Timeline timeline) {
        Optional<ComputeNode> node = registry.readWriteNodeOf(timeline.id());
        boolean wasRunning = node.isPresent() && registry.paths(node.get()).isRunning();
        node.ifPresent(n -> lifecycle.stop(n, timeline));
        return new Paused(node, wasRunning);
    }

    /** A branch's compute stopped by {@link #pause} while its timeline changes. */
    final class Paused {
        private Optional<ComputeNode> node;
        private final boolean wasRunning;

        private Paused(Optional<ComputeNode> node, boolean wasRunning) {
            this.node = node;
            this.wasRunning = wasRunning;
        }

        /**
         * The compute is to serve {@code timeline} (the branch's new one after a reset, or the same with new
         * WAL after a pull) from an empty data directory, made anew at its next start. Done before the WAL
         * changes when it can fail halfway, so no data directory is left behind its timeline.
         */
        void dropData(Timeline timeline) {
            node = node.map(n -> n.timeline().equals(timeline.id()) ? n : n.rebound(timeline.id()));
            node.ifPresent(n -> {
                NodePaths paths = registry.paths(n);
                FileTrees.deleteTree(paths.dataDir());
                FileTrees.deleteTree(paths.restoreDir());
                registry.save(n);
                leases.forget(n.name());
            });
        }

        /** Starts the compute again on {@code timeline} if it ran, within {@code maxComputes} ({@link NodeLifecycle#startAgain}). */
        void resume(Timeline timeline) {
            if (wasRunning) {
                ComputeNode n = node.orElseThrow();
                locks.withLock(timeline.id(), () -> lifecycle.startAgain(n.started(n.startedBy(), null), timeline));
            }
        }
    }

    /** Removes every compute of a timeline being deleted, at once; returns the bytes their data directories freed. */
    long discardAll(TimelineId timeline) {
        long freed = 0;
        for (ComputeNode n : registry.all()) {
            if (n.timeline().equals(timeline)) {
                freed += lifecycle.discard(n);
            }
        }
        return freed;
    }

    /** Removes the read-only views of a timeline's past (its state is being discarded). */
    void discardViews(TimelineId timeline) {
        registry.all().stream().filter(n -> n.timeline().equals(timeline) && n.isReadOnly()).forEach(lifecycle::discard);
    }

    /** The WAL still in a running compute's {@code pg_wal} that the archive lacks, for reading history to its end. */
    Optional<Path> livePgWal(TimelineId timeline) {
        return registry.livePgWal(timeline);
    }
}
