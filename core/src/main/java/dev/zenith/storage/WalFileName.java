package dev.zenith.storage;

import dev.zenith.Lsn;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file of Postgres's WAL archive: a 16 MiB segment ({@code 000000010000000000000003}) or a timeline
 * history file ({@code 00000002.history}). The Postgres timeline id ("tli") is part of every name.
 */
public record WalFileName(int tli, long segmentNumber, boolean history) implements Comparable<WalFileName> {

    private static final java.util.Comparator<WalFileName> ORDER = java.util.Comparator
            .comparing((WalFileName f) -> f.history()).thenComparingInt(WalFileName::tli).thenComparingLong(WalFileName::segmentNumber);

    /** zenith runs initdb itself and keeps Postgres's default segment size. */
    public static final long SEGMENT_SIZE = 16L * 1024 * 1024;
    private static final long SEGMENTS_PER_XLOGID = 0x1_0000_0000L / SEGMENT_SIZE;

    private static final Pattern SEGMENT = Pattern.compile("([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})");
    private static final Pattern HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");

    public static WalFileName segment(int tli, long segmentNumber) {
        return new WalFileName(tli, segmentNumber, false);
    }

    public static WalFileName segmentOf(int tli, Lsn lsn) {
        return segment(tli, Long.divideUnsigned(lsn.value(), SEGMENT_SIZE));
    }

    public static WalFileName history(int tli) {
        return new WalFileName(tli, 0, true);
    }

    public static Optional<WalFileName> parse(String name) {
        Matcher m = SEGMENT.matcher(name);
        if (m.matches()) {
            long segno = Long.parseLong(m.group(2), 16) * SEGMENTS_PER_XLOGID + Long.parseLong(m.group(3), 16);
            return Optional.of(segment(Integer.parseUnsignedInt(m.group(1), 16), segno));
        }
        m = HISTORY.matcher(name);
        if (m.matches()) {
            return Optional.of(history(Integer.parseUnsignedInt(m.group(1), 16)));
        }
        return Optional.empty();
    }

    @Override
    public int compareTo(WalFileName other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        if (history) {
            return String.format("%08X.history", tli);
        }
        return String.format("%08X%08X%08X", tli, segmentNumber / SEGMENTS_PER_XLOGID,
                segmentNumber % SEGMENTS_PER_XLOGID);
    }
}
