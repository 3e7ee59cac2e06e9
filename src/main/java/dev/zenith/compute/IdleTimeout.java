package dev.zenith.compute;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a compute may have no client connection before it is suspended: a duration
 * ({@code 300}, {@code 300s}, {@code 5m}, {@code 1h}), {@code 0} for "at the last disconnect", or
 * {@code never}.
 */
public record IdleTimeout(Optional<Duration> duration) {

    public static final IdleTimeout NEVER = new IdleTimeout(Optional.empty());

    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

    public static IdleTimeout parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("idle timeout is missing: use a duration like 300s, 5m, 0 or never");
        }
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("never")) {
            return NEVER;
        }
        Matcher m = FORM.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid idle timeout \"" + dev.zenith.BranchName.printable(text)
                    + "\": use a duration like 300s, 5m, 1h, 0 (suspend at the last disconnect) or never");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return new IdleTimeout(Optional.of(switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        }));
    }

    public boolean isNever() {
        return duration.isEmpty();
    }

    @Override
    public String toString() {
        return duration.map(d -> d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms").orElse("never");
    }
}
