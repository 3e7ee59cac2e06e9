package dev.zenith;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A point in a branch's past, as a user names it: an LSN ({@code 0/16B5A50}), a time, or a tag. */
public sealed interface PointInTime {

    record AtLsn(Lsn lsn) implements PointInTime {
        @Override
        public String toString() {
            return lsn.toString();
        }
    }

    record AtTime(Instant time) implements PointInTime {
        @Override
        public String toString() {
            return time.toString();
        }
    }

    record AtTag(TagName tag) implements PointInTime {
        @Override
        public String toString() {
            return tag.value();
        }
    }

    Pattern LSN = Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");
    Pattern RELATIVE = Pattern.compile("-(\\d{1,9})(s|m|h|d)");

    /**
     * Parses an LSN, an ISO 8601 time with a zone ({@code 2026-11-24T10:15:00Z},
     * {@code 2026-11-24T11:15:00+01:00}) or a time relative to {@code now} ({@code -30s}, {@code -10m},
     * {@code -2h}, {@code -1d}), or a tag's name ({@code before-migration}).
     */
    static PointInTime parse(String text, Instant now) {
        String t = text == null ? "" : text.trim();
        if (LSN.matcher(t).matches()) {
            return new AtLsn(Lsn.parse(t));
        }
        Matcher m = RELATIVE.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration back = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return new AtTime(now.minus(back));
        }
        if (TagName.isValid(t)) {
            return new AtTag(new TagName(t));
        }
        try {
            return new AtTime(OffsetDateTime.parse(t).toInstant());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("invalid point \"" + BranchName.printable(text)
                    + "\": use an LSN like 0/16B5A50, a time with its zone like 2026-11-24T10:15:00Z,"
                    + " a relative time like -10m or -2h, or a tag's name");
        }
    }
}
