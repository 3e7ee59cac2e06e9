package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** The id of a timeline: 32 lowercase hex digits, like Neon's. Branch names point at timelines. */
public record TimelineId(String value) {

    private static final Pattern VALID = Pattern.compile("[0-9a-f]{32}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public TimelineId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid timeline id \"" + BranchName.printable(value) + "\"");
        }
    }

    public static TimelineId generate() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return new TimelineId(HexFormat.of().formatHex(bytes));
    }

    @JsonCreator
    public static TimelineId of(String value) {
        return new TimelineId(value);
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
