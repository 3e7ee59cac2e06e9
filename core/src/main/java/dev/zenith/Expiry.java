package dev.zenith;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * When a branch expires, as a user writes it: a duration from now ({@code 2h}, {@code 7d}), a time with
 * its zone ({@code 2026-12-01T00:00Z}), or {@code never}.
 */
public final class Expiry {

    private Expiry() {
    }

    /** The moment, or empty for {@code never}; a bad or past one is an {@link IllegalArgumentException} naming it. */
    public static Optional<Instant> parse(String text, Instant now) {
        String t = text == null ? "" : text.trim();
        try {
            Instant at = OffsetDateTime.parse(t).toInstant();
            if (!at.isAfter(now)) {
                throw new IllegalArgumentException("expiry " + at + " is already past: give a later time, or a duration like 2h");
            }
            return Optional.of(at);
        } catch (DateTimeParseException notATime) {
            Optional<Duration> after;
            try {
                after = DurationText.parse(t, "expiry");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid expiry \"" + BranchName.printable(text)
                        + "\": use a duration like 30m, 2h or 7d, a time with its zone like 2026-12-01T00:00Z, or never");
            }
            if (after.isPresent() && after.get().isZero()) {
                throw new IllegalArgumentException("an expiry of 0 would delete the branch at once: give a duration like 2h,"
                        + " or delete it with zenith branch delete");
            }
            return after.map(d -> now.plus(d).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)); // seconds are what a user reads
        }
    }
}
