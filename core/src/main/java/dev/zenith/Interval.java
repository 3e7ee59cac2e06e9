package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Duration;
import java.util.Optional;

/**
 * A setting's duration as people write it ({@link DurationText}: {@code 30s}, {@code 1h}, {@code 7d}) or
 * {@code never}, parsed once when config.json is read and kept as written for messages and the file.
 *
 * @param text     as written
 * @param duration the duration, empty for {@code never}
 */
public record Interval(String text, Optional<Duration> duration) {

    /** Parses a duration; a bad one is an {@link IllegalArgumentException} naming it. */
    @JsonCreator
    public static Interval parse(String text) {
        return parse(text, "duration");
    }

    /** Parses a duration; a bad one is an {@link IllegalArgumentException} naming it as {@code what}. */
    public static Interval parse(String text, String what) {
        Optional<Duration> duration = DurationText.parse(text, what);
        return new Interval(text.trim(), duration);
    }

    /** The duration, or {@code never} for a setting of never. */
    public Duration orElse(Duration never) {
        return duration.orElse(never);
    }

    @JsonValue
    @Override
    public String toString() {
        return text;
    }
}
