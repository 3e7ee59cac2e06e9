package dev.zenith.compute;

import dev.zenith.IdleTimeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Suspends computes that have had no client for their idle timeout: checks every {@code interval}, and
 * at once when the proxy's last client of a compute leaves.
 */
public final class IdleSuspender implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IdleSuspender.class);

    private final Computes computes;
    private final IdleTimeout repositoryDefault;
    private final Duration interval;
    private final Semaphore wake = new Semaphore(0);
    private final java.util.concurrent.atomic.AtomicLong checks = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    private Thread thread;

    public IdleSuspender(Computes computes, IdleTimeout repositoryDefault, Duration interval) {
        this.computes = computes;
        this.repositoryDefault = repositoryDefault;
        this.interval = interval;
    }

    public void start() {
        computes.onLastLeaseClosed(wake::release);
        thread = Thread.ofVirtual().name("idle-suspender").start(this::run);
    }

    private void run() {
        while (!closed) {
            try {
                computes.suspendIdle(repositoryDefault);
            } catch (RuntimeException e) {
                log.error("idle check failed", e);
            }
            checks.incrementAndGet();
            try {
                if (wake.tryAcquire(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** How many idle checks have completed: lets a caller wait for the next one. */
    public long checks() {
        return checks.get();
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        if (thread != null) {
            thread.interrupt();
            thread.join();
        }
    }
}
