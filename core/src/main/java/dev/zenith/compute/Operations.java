package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.model.OperationInfo;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The long operations under way in the daemon (compute starts, images, GC) and how far each has got,
 * for the CLI's progress bars and the console. Progress is read when asked for, from a supplier
 * (bytes copied so far, WAL replayed), so the work itself reports nothing as it goes.
 *
 * <p>Thread-safety: lock-free; the running operations are a concurrent map, each one's phase a volatile.
 */
public final class Operations {

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Tracker> running = new ConcurrentHashMap<>();

    /** Registers an operation; closing the tracker ends it. */
    Tracker begin(String kind, String compute, BranchName branch) {
        Tracker tracker = new Tracker(ids.incrementAndGet(), kind, compute, branch == null ? null : branch.value());
        running.put(tracker.id, tracker);
        return tracker;
    }

    public List<OperationInfo> list() {
        return running.values().stream().map(Tracker::snapshot).sorted(Comparator.comparingLong(OperationInfo::id)).toList();
    }

    /** An operation under way: its current phase and where its progress is read from. */
    final class Tracker implements AutoCloseable {
        private final long id;
        private final String kind;
        private final String compute;
        private final String branch;
        private final long startedNanos = System.nanoTime();
        private volatile Phase phase = new Phase("preparing", () -> 0, () -> 0);

        private Tracker(long id, String kind, String compute, String branch) {
            this.id = id;
            this.kind = kind;
            this.compute = compute;
            this.branch = branch;
        }

        /**
         * Enters a phase whose progress {@code done} reports out of {@code total} bytes (0: unknown). The
         * total is measured only when someone first looks, so an operation nobody watches pays nothing for it.
         */
        void phase(String name, LongSupplier total, LongSupplier done) {
            this.phase = new Phase(name, total, done);
        }

        void phase(String name) {
            phase(name, () -> 0, () -> 0);
        }

        long elapsedNanos() {
            return System.nanoTime() - startedNanos;
        }

        private OperationInfo snapshot() {
            Phase current = phase;
            long total = current.total();
            long done = current.done.getAsLong();
            return new OperationInfo(id, kind, compute, branch, current.name, total > 0 ? Math.min(done, total) : done, total,
                    elapsedNanos() / 1_000_000);
        }

        @Override
        public void close() {
            running.remove(id);
        }
    }

    /** One phase of an operation: its name, its size (measured once, when first asked for) and its progress. */
    private static final class Phase {
        private final String name;
        private final LongSupplier measureTotal;
        private final LongSupplier done;
        private volatile long total = -1;

        Phase(String name, LongSupplier measureTotal, LongSupplier done) {
            this.name = name;
            this.measureTotal = measureTotal;
            this.done = done;
        }

        long total() {
            long t = total;
            if (t < 0) {
                t = measureTotal.getAsLong();
                total = t;
            }
            return t;
        }
    }
}
