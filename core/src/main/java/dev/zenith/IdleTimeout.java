package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Duration;
import java.util.Optional;

/**
 * How long a compute may have no client connection before it is suspended: a duration
 * ({@code 300}, {@code 300s}, {@code 5m}, {@code 1h}), {@code 0} for "at the last disconnect", or
 * {@code never}.
 */
public record IdleTimeout(Optional<Duration> duration) {

    public static final IdleTimeout NEVER = new IdleTimeout(Optional.empty());

    @JsonCreator
    public static IdleTimeout parse(String text) {
        return new IdleTimeout(DurationText.parse(text, "idle timeout"));
    }

    public boolean isNever() {
        return duration.isEmpty();
    }

    @JsonValue
    @Override
    public String toString() {
        return duration.map(d -> d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms").orElse("never");
    }
}
