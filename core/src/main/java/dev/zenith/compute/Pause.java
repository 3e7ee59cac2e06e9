package dev.zenith.compute;

import dev.zenith.ZenithException;

import java.time.Duration;

/** The step between two looks while waiting for a condition with a deadline. */
final class Pause {

    private Pause() {
    }

    static void of(Duration step) {
        try {
            Thread.sleep(step);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }
}
