package dev.zenith.compute;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Who holds which compute, as HikariCP's ConcurrentBag tracks who holds which connection: the proxy's
 * leases and the idle clock of each compute.
 *
 * <p>The suspend/lease protocol, without a lock on the connection path: a lease is counted before its
 * holder reads the compute's {@link NodeState}, and a suspend moves the compute to
 * {@link NodeState#STOPPING} before it reads the lease count. So one always sees the other: either the
 * suspend finds the lease and moves the compute back to running, or the lease finds it stopping and waits
 * for the stop under the timeline's lock, then starts the compute again.
 *
 * <p>Thread-safety: lock-free; each compute's counters are atomics or volatiles in a concurrent map.
 */
final class Leases {

    /** What the idle check knows of one compute's clients. */
    static final class Activity {
        private final AtomicInteger leases = new AtomicInteger();
        /** Backends the proxy's pool keeps open between requests: not clients (see {@link ComputeLeases.Lease#park()}). */
        private final AtomicInteger parked = new AtomicInteger();
        private volatile long lastActiveNanos = System.nanoTime();
        private volatile int clientBackends;

        int leases() {
            return leases.get();
        }

        long lastActiveNanos() {
            return lastActiveNanos;
        }

        /** Clients through the proxy or direct on the compute's own port, as last counted. */
        int connections() {
            return Math.max(leases.get(), clientBackends);
        }

        /**
         * The backends counted on the compute that are clients: all but those parked by the proxy. Parked
         * ones are counted before they leave their lease and uncounted after the next one is taken, so this
         * errs towards a client, never towards suspending under one. Negative when the count failed.
         */
        int clientsAmong(int backends) {
            return backends < 0 ? -1 : Math.max(backends - parked.get(), 0);
        }

        void sawClients(int clients) {
            clientBackends = Math.max(clients, 0);
        }

        void touch() {
            lastActiveNanos = System.nanoTime();
        }
    }

    private final Map<String, Activity> activity = new ConcurrentHashMap<>();
    private final Predicate<String> admitsClients;
    private volatile Runnable lastLeaseClosed = () -> { };

    /** {@code admitsClients}: whether a compute, by name, is running for clients now (its {@link NodeState}). */
    Leases(Predicate<String> admitsClients) {
        this.admitsClients = admitsClients;
    }

    Activity of(String node) {
        return activity.computeIfAbsent(node, n -> new Activity());
    }

    /**
     * Counts a client on a compute before its start is checked, so the idle check never suspends a
     * compute a client waits for; {@code start} then makes sure it runs. A failed start uncounts it.
     */
    ComputeLeases.Lease hold(ComputeNode node, Path socket, Runnable start) {
        Activity a = of(node.name());
        a.leases.incrementAndGet();
        try {
            start.run();
        } catch (RuntimeException e) {
            a.leases.decrementAndGet();
            throw e;
        }
        return new Lease(node.name(), socket, a);
    }

    /** Called when the last lease of a compute closes, so an idle timeout of 0 acts at once. */
    void onLastLeaseClosed(Runnable listener) {
        this.lastLeaseClosed = listener;
    }

    /**
     * Restarts a compute's idle clock at each start. The leases counted while it started stay: they
     * belong to the clients it was started for.
     */
    void restartClock(String node) {
        Activity a = of(node);
        a.sawClients(0);
        a.touch();
    }

    void forget(String node) {
        activity.remove(node);
    }

    /**
     * A parked backend. Resuming follows the protocol above: the lease is counted before the state is
     * read, so a suspend either sees it or is seen.
     */
    private final class Parking implements ComputeLeases.Parking {
        private final String compute;
        private final Path socket;
        private final Activity activity;
        private final AtomicBoolean ended = new AtomicBoolean();

        private Parking(String compute, Path socket, Activity activity) {
            this.compute = compute;
            this.socket = socket;
            this.activity = activity;
        }

        @Override
        public Optional<ComputeLeases.Lease> resume() {
            activity.leases.incrementAndGet();
            close();
            if (admitsClients.test(compute)) {
                return Optional.of(new Lease(compute, socket, activity));
            }
            if (activity.leases.decrementAndGet() == 0) {
                lastLeaseClosed.run();
            }
            return Optional.empty();
        }

        @Override
        public void close() {
            if (ended.compareAndSet(false, true)) {
                activity.parked.decrementAndGet();
            }
        }
    }

    private final class Lease implements ComputeLeases.Lease {
        private final String compute;
        private final Path socket;
        private final Activity activity;
        private boolean closed;

        private Lease(String compute, Path socket, Activity activity) {
            this.compute = compute;
            this.socket = socket;
            this.activity = activity;
        }

        @Override
        public String compute() {
            return compute;
        }

        @Override
        public Path socket() {
            return socket;
        }

        @Override
        public ComputeLeases.Parking park() {
            activity.parked.incrementAndGet();
            close();
            return new Parking(compute, socket, activity);
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            activity.touch();
            if (activity.leases.decrementAndGet() == 0) {
                lastLeaseClosed.run();
            }
        }
    }
}
