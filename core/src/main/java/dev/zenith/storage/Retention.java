package dev.zenith.storage;

import dev.zenith.DurationText;
import dev.zenith.Interval;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How far back a branch's history stays available for branches at past points and read-only views:
 * a window such as {@code 24h} or {@code 7d}, or {@code never} (everything is kept). A branch has its
 * own window or the repository's.
 *
 * @param text     the window as the user wrote it, for messages
 * @param duration the window, empty for {@code never}
 */
public record Retention(String text, Optional<Duration> duration) {

    /** Parses a window; a bad one is an {@link IllegalArgumentException} naming it. */
    public static Retention parse(String text) {
        return new Retention(text, DurationText.parse(text, "retention"));
    }

    /** A branch's window: its own, else the repository's. */
    public static Retention of(Timeline timeline, Interval repositoryDefault) {
        String own = timeline.metadata().retention();
        return own != null ? parse(own) : new Retention(repositoryDefault.text(), repositoryDefault.duration());
    }

    /** The oldest time whose state stays available; with {@code never}, the beginning of time. */
    public Instant horizon(Instant now) {
        return duration.map(now::minus).orElse(Instant.EPOCH);
    }

    @Override
    public String toString() {
        return text;
    }
}
