package dev.zenith.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.zenith.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.zenith.Locks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The console's live view: one thread samples the daemon's state while anyone is subscribed and
 * publishes it when it changed, so every open console sees a change from the CLI, a connection or a
 * suspend within one sampling interval. Sampling, rather than events from each component, keeps the
 * components unaware of the console, and what the console shows is by construction what the API says.
 *
 * <p>Locks: {@code lock} guards {@code latest}, {@code subscribers} and {@code closed}; the sampler waits
 * on {@code wanted} while nobody subscribes, subscribers on {@code changed}.
 */
final class EventFeed implements AutoCloseable {

    /** One published state: the JSON text and its sequence number. */
    record Published(long version, String json) {
    }

    private static final Logger log = LoggerFactory.getLogger(EventFeed.class);

    private final Supplier<Object> sample;
    private final Duration interval;
    private final ReentrantLock lock = Locks.newLock("event feed");
    private final Condition changed = lock.newCondition();
    private final Condition wanted = lock.newCondition();
    private final Thread sampler;
    private Published latest = new Published(0, null);
    private int subscribers;
    private boolean closed;

    EventFeed(Supplier<Object> sample, Duration interval) {
        this.sample = sample;
        this.interval = interval;
        this.sampler = Thread.ofVirtual().name("console-feed").start(this::run);
    }

    void subscribe() {
        lock.lock();
        try {
            subscribers++;
            wanted.signal();
        } finally {
            lock.unlock();
        }
    }

    void unsubscribe() {
        lock.lock();
        try {
            subscribers--;
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The next state after {@code seen}, or null when none came within {@code timeout} (time for a heartbeat) or the feed closed. */
    Published next(long seen, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (latest.version() <= seen || latest.json() == null) {
                if (closed || left <= 0) {
                    return null;
                }
                left = changed.awaitNanos(left);
            }
            return latest;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        try {
            while (awaitSubscriber()) {
                publish(sampleJson());
                Thread.sleep(interval);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean awaitSubscriber() throws InterruptedException {
        lock.lock();
        try {
            while (subscribers == 0 && !closed) {
                wanted.await(1, TimeUnit.MINUTES);
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    private String sampleJson() {
        try {
            // one line: an event's data may not contain line breaks
            return Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(sample.get());
        } catch (JsonProcessingException | RuntimeException e) {
            // a branch deleted while it was being read, say: the next sample will do
            log.debug("console state not sampled: {}", e.getMessage());
            return null;
        }
    }

    private void publish(String json) {
        lock.lock();
        try {
            if (json != null && !json.equals(latest.json())) {
                latest = new Published(latest.version() + 1, json);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            wanted.signalAll();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        sampler.interrupt();
    }
}
