package dev.zenith.storage;

import dev.zenith.Lsn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * WAL of one Postgres timeline written record by record from the start of segment 1, laid out as Postgres
 * writes it: long and short page headers, records aligned to 8 bytes and continued across pages and
 * segments (with the continuation's length in the next page's header), back links, CRC32C. For tests
 * of what reads WAL ({@link WalReader}, the remote's comparisons) without a Postgres.
 */
public final class WalSegments {

    public static final int RM_XLOG = 0;
    private static final int RM_XACT = 1;
    private static final int XLOG_RESTORE_POINT = 0x70;
    private static final int XACT_COMMIT = 0x00;
    private static final int PAGE = 8192;
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    /** Segment number to its 16 MiB of bytes. */
    public final Map<Long, byte[]> segments = new TreeMap<>();
    private final int tli;
    private long pos = WalFileName.SEGMENT_SIZE;
    private long prev;

    /** WAL of Postgres timeline {@code tli}: 1 before the first promotion, 2 after it. */
    public WalSegments(int tli) {
        this.tli = tli;
    }

    /** Where the next record goes. */
    public Lsn end() {
        return new Lsn(pos);
    }

    /** A transaction's commit record at {@code at}. */
    public Lsn commit(int xid, Instant at) {
        long micros = at.getEpochSecond() * 1_000_000L + at.getNano() / 1000 - POSTGRES_EPOCH_MICROS;
        return append(RM_XACT, XACT_COMMIT, xid, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(micros).array());
    }

    /** A restore point named {@code name}, as {@code pg_create_restore_point} writes it. */
    public Lsn restorePoint(int xid, String name) {
        byte[] point = new byte[72];
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, point, 8, bytes.length);
        return append(RM_XLOG, XLOG_RESTORE_POINT, xid, point);
    }

    /** Records with no transaction in them up to {@code lsn}, the last one running past it. */
    public void fillTo(long lsn) {
        while (pos < lsn - 1_000_000) {
            append(RM_XLOG, 0, 0, new byte[1_000_000]);
        }
        append(RM_XLOG, 0, 0, new byte[(int) Math.max(lsn - pos, 1)]);
    }

    /** A record of resource manager {@code rmid} whose main data is {@code mainData}; returns where it starts. */
    public Lsn append(int rmid, int info, int xid, byte[] mainData) {
        int dataHeader = mainData.length <= 255 ? 2 : 5;
        int length = 24 + dataHeader + mainData.length;
        ByteBuffer r = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        r.putInt(length).putInt(xid).putLong(prev).put((byte) info).put((byte) rmid).putShort((short) 0).putInt(0);
        if (mainData.length <= 255) {
            r.put((byte) 255).put((byte) mainData.length);
        } else {
            r.put((byte) 254).putInt(mainData.length);
        }
        r.put(mainData);
        byte[] record = r.array();
        CRC32C crc = new CRC32C();
        crc.update(record, 24, length - 24);
        crc.update(record, 0, 20);
        r.putInt(20, (int) crc.getValue());
        if (pos % PAGE == 0) {
            pos += pageHeader(pos, 0);
        }
        long begin = pos;
        int done = 0;
        while (done < length) {
            if (pos % PAGE == 0) {
                pos += pageHeader(pos, length - done);
            }
            int n = (int) Math.min(length - done, PAGE - pos % PAGE);
            System.arraycopy(record, done, segment(pos), (int) (pos % WalFileName.SEGMENT_SIZE), n);
            done += n;
            pos += n;
        }
        prev = begin;
        pos = (pos + 7) & ~7L;
        return new Lsn(begin);
    }

    /** A page's header: long at a segment's start; {@code continued} bytes of a record carried over from the last page. */
    private int pageHeader(long at, int continued) {
        boolean first = at % WalFileName.SEGMENT_SIZE == 0;
        ByteBuffer h = ByteBuffer.wrap(segment(at), (int) (at % WalFileName.SEGMENT_SIZE), first ? 40 : 24)
                .order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) 0xD118).putShort((short) (continued > 0 ? 1 : 0)).putInt(tli).putLong(at).putInt(continued);
        return first ? 40 : 24;
    }

    private byte[] segment(long at) {
        return segments.computeIfAbsent(at / WalFileName.SEGMENT_SIZE, s -> new byte[(int) WalFileName.SEGMENT_SIZE]);
    }

    /** The same WAL, to damage without touching this one. */
    public WalSegments copy() {
        WalSegments copy = new WalSegments(tli);
        segments.forEach((segno, bytes) -> copy.segments.put(segno, bytes.clone()));
        copy.pos = pos;
        copy.prev = prev;
        return copy;
    }

    /** Flips the bits of one byte. */
    public void corrupt(long at) {
        segment(at)[(int) (at % WalFileName.SEGMENT_SIZE)] ^= 0x5a;
    }

    public void putLong(long at, long value) {
        ByteBuffer.wrap(segment(at)).order(ByteOrder.LITTLE_ENDIAN).putLong((int) (at % WalFileName.SEGMENT_SIZE), value);
    }

    /** Writes the segments as WAL files into {@code dir}; returns them by name. */
    public Map<WalFileName, Path> writeTo(Path dir) {
        Map<WalFileName, Path> files = new HashMap<>();
        try {
            Files.createDirectories(dir);
            for (var s : segments.entrySet()) {
                WalFileName name = WalFileName.segment(tli, s.getKey());
                Path file = dir.resolve(name.toString());
                Files.write(file, s.getValue());
                files.put(name, file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
