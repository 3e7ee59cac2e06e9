package dev.zenith;

import java.time.Duration;

/**
 * The end of a wait for a process or a condition (a Postgres to accept connections, the archiver to
 * catch up, the daemon to answer), and the pause between two looks: every polling loop of zenith counts
 * its time this way, with the monotonic clock.
 */
public final class Deadline {

    private final long endNanos;
    private final Duration length;

    private Deadline(Duration length) {
        this.endNanos = System.nanoTime() + length.toNanos();
        this.length = length;
    }

    /** A deadline {@code length} from now. */
    public static Deadline in(Duration length) {
        return new Deadline(length);
    }

    public boolean passed() {
        return System.nanoTime() - endNanos > 0;
    }

    /** How long the wait may last, for the message that says it did not end in time. */
    public Duration length() {
        return length;
    }

    /** How long ago this deadline was set. */
    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - (endNanos - length.toNanos()));
    }

    /** Sleeps {@code step} between two looks; an interrupt ends the wait with an error. */
    public static void pause(Duration step) {
        try {
            Thread.sleep(step);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }
}
