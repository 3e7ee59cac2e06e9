package dev.zenith.proxy;

import dev.zenith.compute.ComputeLeases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sessions on computes kept open between SQL-over-HTTP requests, so a query does not fork a backend: one
 * pool per target (a branch, or a read-only view's compute), startup parameters and password, at most
 * {@link #SIZE} sessions each. A session is reset ({@code DISCARD ALL}) before it goes back; one left
 * inside a transaction, or broken, is closed. An idle session is parked ({@link ComputeLeases.Lease#park()}):
 * it does not keep its compute from suspending. Taking it resumes its lease without resolving the branch
 * again (most of a request's cost otherwise); one whose compute stopped meanwhile is found dead and
 * replaced. Sessions idle for {@link #IDLE_LIMIT} are closed by a sweep.
 *
 * <p>Thread-safety: {@code lock} guards the map of idle sessions; the semaphores bound each key's sessions
 * without it; a session taken out belongs to one request's thread until it is given back.
 */
final class SessionPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SessionPool.class);
    /** Sessions per key, in use or idle: a branch's HTTP traffic keeps at most this many backends. */
    static final int SIZE = 20;
    private static final Duration IDLE_LIMIT = Duration.ofMinutes(5);

    /** Which sessions may serve a request: same target, same login, same startup parameters. */
    record Key(String target, StartupMessage startup, String password) {
    }

    /** A session and the lease on its compute, for one request. */
    record Borrowed(ComputeSession session, ComputeLeases.Lease lease) {
    }

    /** Leases the target's compute (starting it when needed) when no parked session can be resumed. */
    @FunctionalInterface
    interface Leaser {
        ComputeLeases.Lease lease() throws ServerError;
    }

    /** Opens a session on the leased compute. */
    @FunctionalInterface
    interface Opener {
        ComputeSession open(ComputeLeases.Lease lease) throws IOException, ServerError;
    }

    private record Idle(ComputeSession session, ComputeLeases.Parking parking, long since) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Key, Deque<Idle>> idle = new HashMap<>();
    private final Map<Key, Semaphore> permits = new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("http-session-sweep").factory());
    private final Duration wait;

    SessionPool(Duration wait) {
        this.wait = wait;
        sweeper.scheduleWithFixedDelay(this::closeIdle, 30, 30, TimeUnit.SECONDS);
    }

    /**
     * A session for {@code key} under a lease: a parked one resumed, or one newly opened on a compute
     * {@code leaser} leases. Waits for one of the key's {@link #SIZE} sessions to come back when all are in use.
     */
    Borrowed take(Key key, Leaser leaser, Opener opener) throws IOException, ServerError, InterruptedException {
        Semaphore semaphore = permits.computeIfAbsent(key, k -> new Semaphore(SIZE));
        if (!semaphore.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            throw ServerError.of("53300", "all " + SIZE + " pooled sessions of " + key.target()
                    + " for user \"" + key.startup().parameters().get("user") + "\" stayed busy for " + wait.toSeconds() + " s",
                    "send fewer queries at once, or shorter ones");
        }
        try {
            for (Idle found = pollIdle(key); found != null; found = pollIdle(key)) {
                ComputeLeases.Lease lease = found.parking().resume().orElse(null);
                if (lease != null && found.session().isAlive()) {
                    return new Borrowed(found.session(), lease);
                }
                found.session().close();
                if (lease != null) {
                    lease.close();
                }
            }
            ComputeLeases.Lease lease = leaser.lease();
            try {
                return new Borrowed(opener.open(lease), lease);
            } catch (IOException | ServerError | RuntimeException e) {
                lease.close();
                throw e;
            }
        } catch (IOException | ServerError | RuntimeException e) {
            semaphore.release();
            throw e;
        }
    }

    /**
     * Takes back a session after its request (and after its answer was sent, since the reset costs a round
     * trip): reset and parked under its lease (which this ends) when idle outside a transaction, else closed.
     */
    void giveBack(Key key, Borrowed borrowed) {
        ComputeSession session = borrowed.session();
        ComputeLeases.Lease lease = borrowed.lease();
        try {
            boolean reusable;
            try {
                reusable = session.reset();
            } catch (IOException e) {
                log.debug("a pooled session of {} cannot be reset: {}", key.target(), e.getMessage());
                reusable = false;
            }
            if (reusable) {
                ComputeLeases.Parking parking = lease.park();
                lock.lock();
                try {
                    idle.computeIfAbsent(key, k -> new ArrayDeque<>()).push(new Idle(session, parking, System.nanoTime()));
                } finally {
                    lock.unlock();
                }
            } else {
                session.close();
                lease.close();
            }
        } finally {
            permits.get(key).release();
        }
    }

    /** Closes a session that must not serve again (its request broke it), ending the lease. */
    void discard(Key key, Borrowed borrowed) {
        borrowed.session().close();
        borrowed.lease().close();
        permits.get(key).release();
    }

    private Idle pollIdle(Key key) {
        lock.lock();
        try {
            Deque<Idle> sessions = idle.get(key);
            return sessions == null ? null : sessions.poll();
        } finally {
            lock.unlock();
        }
    }

    private void closeIdle() {
        long limit = System.nanoTime() - IDLE_LIMIT.toNanos();
        List<Idle> old = new ArrayList<>();
        lock.lock();
        try {
            for (Iterator<Deque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
                Deque<Idle> sessions = it.next();
                sessions.removeIf(s -> s.since() - limit < 0 && old.add(s));
                if (sessions.isEmpty()) {
                    it.remove();
                }
            }
        } finally {
            lock.unlock();
        }
        for (Idle s : old) {
            s.session().close();
            s.parking().close();
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        List<Idle> all = new ArrayList<>();
        lock.lock();
        try {
            idle.values().forEach(all::addAll);
            idle.clear();
        } finally {
            lock.unlock();
        }
        for (Idle s : all) {
            s.session().close();
            s.parking().close();
        }
    }
}
