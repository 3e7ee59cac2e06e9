package dev.zenith.compute;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/** The daemon's periodic work on the repository: images where WAL piled up, and garbage collection. */
public final class Housekeeping implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Housekeeping.class);

    private final Computes computes;
    private final Duration interval;
    private final long imageThresholdBytes;
    private final Duration gcInterval;
    private volatile boolean closed;
    private Thread thread;

    public Housekeeping(Computes computes, Duration interval, long imageThresholdBytes, Duration gcInterval) {
        this.computes = computes;
        this.interval = interval;
        this.imageThresholdBytes = imageThresholdBytes;
        this.gcInterval = gcInterval;
    }

    public void start() {
        thread = Thread.ofVirtual().name("housekeeping").start(this::run);
    }

    private void run() {
        long lastGc = System.nanoTime();
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            try {
                computes.makeImagesWhereDue(imageThresholdBytes);
                if (System.nanoTime() - lastGc >= gcInterval.toNanos()) {
                    computes.collectGarbage();
                    lastGc = System.nanoTime();
                }
            } catch (RuntimeException e) {
                log.error("housekeeping failed", e);
            }
        }
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
