package dev.zenith.storage;

import dev.zenith.Lsn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * Reads WAL records from the archive: to find commit times ("the state at time T" is every transaction
 * that committed by T, so its LSN is where the first commit or abort after T starts), where valid WAL
 * ends, and every record of a segment for {@code zenith log}. Written by hand: no Java library reads
 * Postgres WAL, and only page headers, record headers and block references are needed ({@link WalRecord}). The end of valid WAL is found as Postgres finds it: a page whose address does not match, a
 * zero length, a broken back link or a CRC that does not match.
 */
public final class WalReader {

    private static final int PAGE = 8192;
    private static final int SHORT_PAGE_HEADER = 24;
    private static final int LONG_PAGE_HEADER = 40;
    private static final int XLP_FIRST_IS_CONTRECORD = 0x0001;
    private static final int XLOG_SWITCH = 0x40;
    private static final int XLOG_RESTORE_POINT = 0x70;
    /** How zenith names the restore points it writes when it branches from a running compute. */
    public static final String ZENITH_RESTORE_POINT = "zenith branch ";
    private static final int XLOG_XACT_ABORT = 0x20;
    private static final int XLOG_XACT_COMMIT_PREPARED = 0x30;
    private static final int XLOG_XACT_ABORT_PREPARED = 0x40;
    /** Postgres timestamps count microseconds from 2000-01-01 00:00 UTC. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    private final Map<WalFileName, Path> files;
    private final TimelineHistory history;
    private long loadedSegment = -1;
    private int pageMagic;
    private ByteBuffer segment;

    /** {@code files}: the WAL a timeline may read (see {@link RecoveryPlan#files}); {@code history}: its current Postgres timeline. */
    public WalReader(Map<WalFileName, Path> files, TimelineHistory history) {
        this.files = files;
        this.history = history;
    }

    /** The start of the first commit or abort record in [{@code from}, {@code to}) that happened after {@code time}. */
    public Optional<Lsn> firstCommitAfter(Instant time, Lsn from, Lsn to) {
        long segno = Math.max(segmentOf(from.value()), firstSegmentTouchedAfter(time, segmentOf(from.value())));
        Lsn[] found = {null};
        scan(segno, to, Long.MAX_VALUE, r -> {
            Instant commitTime = commitTime(r);
            if (r.lsn().compareTo(from) >= 0 && commitTime != null && commitTime.isAfter(time)) {
                found[0] = r.lsn();
                return false;
            }
            return true;
        });
        return Optional.ofNullable(found[0]);
    }

    /**
     * Whether the WAL in [{@code from}, {@code to}) holds a commit or an abort of a transaction that is not
     * zenith's own (the restore point it writes when branching from a running compute commits one).
     */
    public boolean hasTransactionsAfter(Lsn from, Lsn to) {
        Set<Integer> zenithXids = new HashSet<>();
        boolean[] found = {false};
        scan(segmentOf(from.value()), to, Long.MAX_VALUE, r -> {
            if (isZenithRestorePoint(r)) {
                zenithXids.add(r.xid());
            } else if (r.lsn().compareTo(from) >= 0 && commitTime(r) != null && !zenithXids.contains(r.xid())) {
                found[0] = true;
                return false;
            }
            return true;
        });
        return found[0];
    }

    /**
     * Where the valid WAL ends, read from the segment holding {@code from} on: the end of the last record
     * whose checksum holds, as recovery would find it. For WAL being received, whose open segment ends in
     * zeros or in a record still being written. Empty when that segment cannot be read whole.
     */
    public Optional<Lsn> endOfValidWal(Lsn from) {
        long segno = segmentOf(from.value());
        if (!load(segno)) {
            return Optional.empty();
        }
        long[] end = {from.value()};
        scan(segno, null, Long.MAX_VALUE, r -> {
            end[0] = align(r.end().value());
            return true;
        });
        return Optional.of(new Lsn(Math.max(end[0], from.value())));
    }

    /**
     * Every valid record that starts in segment {@code segno}, in order, stopping before {@code to} (null:
     * no bound). True when the WAL goes on past the segment; false when it ends within (or the segment
     * is not there).
     */
    public boolean forEachIn(long segno, Lsn to, Consumer<WalRecord> each) {
        return scan(segno, to, segno, r -> {
            each.accept(r);
            return true;
        });
    }

    /** The last segment number there is a file for: where reading newest first starts. */
    public Optional<Long> lastSegment() {
        return files.keySet().stream().filter(f -> !f.history()).map(WalFileName::segmentNumber).max(Long::compare);
    }

    /**
     * Reads records from the first that starts in {@code segno} while {@code visit} says to go on, up to
     * the last segment {@code lastSegno}, and before {@code to}. True when it stopped at the end of
     * {@code lastSegno} with valid WAL after.
     */
    private boolean scan(long segno, Lsn to, long lastSegno, Predicate<WalRecord> visit) {
        if (!load(segno)) {
            return false;
        }
        long pos = firstRecordIn(segno);
        long prev = -1;
        while (pos >= 0) {
            long start = skipPageHeader(pos); // a record that would start at a page boundary starts after its header
            if (start < 0 || (to != null && Long.compareUnsigned(start, to.value()) >= 0)) {
                return false;
            }
            if (segmentOf(start) > lastSegno) {
                return true;
            }
            WalRecord r = readRecord(start, prev);
            if (r == null || !visit.test(r)) {
                return false;
            }
            prev = start;
            pos = isSwitch(r) ? (segmentOf(start) + 1) * WalFileName.SEGMENT_SIZE : align(r.end().value());
        }
        return false;
    }

    private static boolean isSwitch(WalRecord r) {
        return r.rmid() == WalRecord.RM_XLOG && (r.info() & 0xf0) == XLOG_SWITCH;
    }

    private static boolean isZenithRestorePoint(WalRecord r) {
        if (r.rmid() != WalRecord.RM_XLOG || (r.info() & 0xf0) != XLOG_RESTORE_POINT || r.mainLength() <= 8) {
            return false;
        }
        byte[] name = new byte[Math.min(r.mainLength() - 8, ZENITH_RESTORE_POINT.length())];
        r.mainData().get(8, name);
        return new String(name, StandardCharsets.US_ASCII).equals(ZENITH_RESTORE_POINT);
    }

    /** When a commit or abort record's transaction ended; null for any other record. */
    public static Instant commitTime(WalRecord r) {
        if (r.rmid() != WalRecord.RM_XACT || r.mainLength() < 8) {
            return null;
        }
        int op = r.info() & WalRecord.XACT_OPMASK;
        if (op != WalRecord.XACT_COMMIT && op != XLOG_XACT_ABORT && op != XLOG_XACT_COMMIT_PREPARED && op != XLOG_XACT_ABORT_PREPARED) {
            return null;
        }
        return postgresTime(r.mainData().getLong(0));
    }

    /** A Postgres timestamp: microseconds since 2000-01-01 00:00 UTC. */
    public static Instant postgresTime(long micros) {
        long epochMicros = micros + POSTGRES_EPOCH_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L), Math.floorMod(epochMicros, 1_000_000L) * 1000L);
    }

    /** The record starting at {@code pos} (not a page boundary), or null at the end of valid WAL. */
    private WalRecord readRecord(long pos, long prev) {
        if (PAGE - pageOffset(pos) < 4) {
            return null;
        }
        long totLen = Integer.toUnsignedLong(intAt(pos));
        if (totLen < WalRecord.HEADER || totLen > 1L << 30) {
            return null;
        }
        int magic = pageMagic;
        byte[] record = new byte[(int) totLen];
        long end = copy(pos, record);
        if (end < 0) {
            return null;
        }
        ByteBuffer r = ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN);
        if (prev >= 0 && r.getLong(8) != prev) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(record, WalRecord.HEADER, record.length - WalRecord.HEADER);
        crc.update(record, 0, 20);
        if ((int) crc.getValue() != r.getInt(20)) {
            return null;
        }
        return WalRecord.decode(new Lsn(pos), new Lsn(end), record, magic);
    }

    /** The first segment, from {@code from} on, whose file was last written after {@code time}: earlier ones hold only older commits. */
    private long firstSegmentTouchedAfter(Instant time, long from) {
        for (long segno = from; ; segno++) {
            Optional<Path> file = fileFor(segno);
            if (file.isEmpty()) {
                return segno;
            }
            try {
                if (!Files.getLastModifiedTime(file.get()).toInstant().isBefore(time)) {
                    return segno;
                }
            } catch (IOException e) {
                return segno;
            }
        }
    }

    /** Where the first record that starts in a segment begins, past any record continued from the previous one. */
    private long firstRecordIn(long segno) {
        long start = segno * WalFileName.SEGMENT_SIZE;
        int info = Short.toUnsignedInt(segment.getShort(2));
        long remaining = (info & XLP_FIRST_IS_CONTRECORD) != 0 ? Integer.toUnsignedLong(segment.getInt(16)) : 0;
        long pos = start + LONG_PAGE_HEADER;
        while (remaining > 0) {
            long room = PAGE - pageOffset(pos);
            if (remaining <= room) {
                return align(pos + remaining);
            }
            remaining -= room;
            pos = pos + room;
            if (segmentOf(pos) != segno) {
                return -1;
            }
            pos += SHORT_PAGE_HEADER;
        }
        return align(pos);
    }

    /** Copies record bytes from {@code pos} into {@code out}, skipping page headers; returns the end, or -1 past valid WAL. */
    private long copy(long pos, byte[] out) {
        int done = 0;
        while (done < out.length) {
            pos = skipPageHeader(pos);
            if (pos < 0) {
                return -1;
            }
            int n = (int) Math.min(out.length - done, PAGE - pageOffset(pos));
            segment.get((int) (pos % WalFileName.SEGMENT_SIZE), out, done, n);
            done += n;
            pos += n;
        }
        return pos;
    }

    /** At a page boundary, loads the page (and segment) and checks its header; returns the first data position. */
    private long skipPageHeader(long pos) {
        if (pageOffset(pos) != 0) {
            return load(segmentOf(pos)) ? pos : -1;
        }
        if (!load(segmentOf(pos))) {
            return -1;
        }
        int offset = (int) (pos % WalFileName.SEGMENT_SIZE);
        if (segment.getLong(offset + 8) != pos || segment.getShort(offset) == 0) {
            return -1;
        }
        return pos + (offset == 0 ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER);
    }

    private boolean load(long segno) {
        if (segno == loadedSegment) {
            return true;
        }
        Optional<Path> file = fileFor(segno);
        if (file.isEmpty()) {
            return false;
        }
        // mapped rather than read: a start checks the segment its branch point is in, and 16 MB on the heap per
        // start grew the daemon's heap under a soak; WAL files are never truncated, so a mapping stays valid
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file.get(), java.nio.file.StandardOpenOption.READ)) {
            if (ch.size() != WalFileName.SEGMENT_SIZE) {
                return false;
            }
            segment = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, WalFileName.SEGMENT_SIZE)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.get(), e);
        }
        loadedSegment = segno;
        pageMagic = Short.toUnsignedInt(segment.getShort(0));
        return true;
    }

    /**
     * The file holding a segment: the newest Postgres timeline in force somewhere in it, since a new
     * timeline's first segment starts with a copy of the old one's WAL up to the switch.
     */
    private Optional<Path> fileFor(long segno) {
        long segStart = segno * WalFileName.SEGMENT_SIZE;
        long segEnd = segStart + WalFileName.SEGMENT_SIZE;
        List<TimelineHistory.Switch> switches = history.switches();
        for (int i = switches.size(); i >= 0; i--) {
            int tli = i == switches.size() ? history.tli() : switches.get(i).tli();
            long begin = i == 0 ? 0 : switches.get(i - 1).end().value();
            long end = i == switches.size() ? Long.MAX_VALUE : switches.get(i).end().value();
            if (Long.compareUnsigned(begin, segEnd) < 0 && Long.compareUnsigned(end, segStart) > 0) {
                Path file = files.get(WalFileName.segment(tli, segno));
                if (file != null) {
                    return Optional.of(file);
                }
            }
        }
        return Optional.empty();
    }

    private int intAt(long pos) {
        return segment.getInt((int) (pos % WalFileName.SEGMENT_SIZE));
    }

    private static long segmentOf(long pos) {
        return Long.divideUnsigned(pos, WalFileName.SEGMENT_SIZE);
    }

    private static long pageOffset(long pos) {
        return pos % PAGE;
    }

    private static long align(long pos) {
        return (pos + 7) & ~7L;
    }
}
