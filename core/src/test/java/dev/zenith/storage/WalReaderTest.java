package dev.zenith.storage;

import dev.zenith.Lsn;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The WAL reader on WAL made for the test, laid out as Postgres writes it (page headers, records aligned
 * to 8 bytes, records continued across pages and segments, CRC32C, back links), so each rule that finds
 * a commit or the end of valid WAL is checked without a Postgres. {@code TimeTravelTest} reads real WAL.
 */
class WalReaderTest {

    private static final Instant T1 = Instant.parse("2026-01-01T10:00:00Z");
    private static final Instant T2 = T1.plus(Duration.ofHours(1));
    private static final Instant T3 = T2.plus(Duration.ofHours(1));
    private static final Instant T4 = T3.plus(Duration.ofHours(1));
    private static final Lsn END = Lsn.parse("FF/0");

    @TempDir
    static Path dir;
    /** Made once: two 16 MiB segments; the tests that damage WAL damage copies. */
    private static Wal wal;
    private static WalReader reader;

    @BeforeAll
    static void writeWal() throws IOException {
        wal = Wal.make();
        reader = wal.reader(dir.resolve("intact"));
    }

    @Test
    void findsTheFirstCommitAfterATimeAcrossPagesAndSegments() {
        assertThat(reader.firstCommitAfter(T1.minusSeconds(1), wal.start, END)).contains(wal.a);
        assertThat(reader.firstCommitAfter(T1, wal.start, END)).as("past a record that spans a page").contains(wal.c);
        assertThat(reader.firstCommitAfter(T2, wal.start, END)).as("zenith's own commit counts as a commit").contains(wal.e);
        assertThat(reader.firstCommitAfter(T3, wal.start, END)).as("past a record that spans two segments").contains(wal.f);
        assertThat(reader.firstCommitAfter(T3, wal.f, END)).as("starting in a segment that begins mid-record").contains(wal.f);
        assertThat(reader.firstCommitAfter(T4, wal.start, END)).as("nothing after the last commit").isEmpty();
        assertThat(reader.firstCommitAfter(T1, wal.start, wal.c)).as("only before the end asked for").isEmpty();
        assertThat(reader.firstCommitAfter(T1.minusSeconds(1), wal.c, END)).as("only from the start asked for").contains(wal.c);
    }

    @Test
    void zenithsOwnRestorePointTransactionIsNotAChange() {
        assertThat(reader.hasTransactionsAfter(wal.d, wal.f)).as("only the branch point's own commit").isFalse();
        assertThat(reader.hasTransactionsAfter(wal.d, END)).isTrue();
        assertThat(reader.hasTransactionsAfter(wal.start, wal.d)).isTrue();
    }

    @Test
    void readingStopsWhereTheWalStopsBeingValid() throws IOException {
        Wal corrupt = wal.copy();
        corrupt.corrupt(wal.c.value() + 30);
        assertThat(corrupt.reader(dir.resolve("corrupt")).firstCommitAfter(T1, wal.start, END))
                .as("a CRC that does not match ends the WAL").isEmpty();

        Wal unlinked = wal.copy();
        unlinked.putLong(wal.c.value() + 8, wal.a.value());
        assertThat(unlinked.reader(dir.resolve("unlinked")).firstCommitAfter(T1, wal.start, END))
                .as("a back link that does not point at the previous record ends the WAL").isEmpty();

        Wal missing = wal.copy();
        missing.segments.remove(wal.f.value() / WalFileName.SEGMENT_SIZE);
        assertThat(missing.reader(dir.resolve("missing")).firstCommitAfter(T3, wal.start, END))
                .as("a segment not in the archive ends the WAL").isEmpty();
    }

    /** WAL of Postgres timeline 1 written record by record from the start of segment 1, as Postgres lays it out. */
    private static final class Wal {
        private static final int PAGE = 8192;
        private static final int RM_XLOG = 0;
        private static final int RM_XACT = 1;
        private static final int XLOG_RESTORE_POINT = 0x70;
        private static final int XACT_COMMIT = 0x00;
        private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

        final Map<Long, byte[]> segments = new TreeMap<>();
        final Lsn start = new Lsn(WalFileName.SEGMENT_SIZE);
        Lsn a;
        Lsn c;
        Lsn d;
        Lsn e;
        Lsn f;
        private long pos = start.value();
        private long prev;

        /**
         * Commit A at T1; a 10 kB record over a page boundary; commit C at T2; zenith's restore point D
         * and its commit E at T3; records filling the segment, the last one running into segment 2; commit F at T4.
         */
        static Wal make() {
            Wal wal = new Wal();
            wal.a = wal.commit(100, T1);
            wal.append(RM_XLOG, 0, 0, new byte[10_000]);
            wal.c = wal.commit(101, T2);
            byte[] point = new byte[72];
            byte[] name = "zenith branch feature".getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(name, 0, point, 8, name.length);
            wal.d = wal.append(RM_XLOG, XLOG_RESTORE_POINT, 102, point);
            wal.e = wal.commit(102, T3);
            long segmentEnd = 2 * WalFileName.SEGMENT_SIZE;
            while (wal.pos < segmentEnd - 1_000_000) {
                wal.append(RM_XLOG, 0, 0, new byte[1_000_000]);
            }
            wal.append(RM_XLOG, 0, 0, new byte[(int) (segmentEnd - wal.pos) + 50_000]);
            wal.f = wal.commit(103, T4);
            assertThat(wal.f.value() / WalFileName.SEGMENT_SIZE).isEqualTo(2);
            return wal;
        }

        Lsn commit(int xid, Instant at) {
            long micros = at.getEpochSecond() * 1_000_000L + at.getNano() / 1000 - POSTGRES_EPOCH_MICROS;
            return append(RM_XACT, XACT_COMMIT, xid, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(micros).array());
        }

        Lsn append(int rmid, int info, int xid, byte[] mainData) {
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
            h.putShort((short) 0xD118).putShort((short) (continued > 0 ? 1 : 0)).putInt(1).putLong(at).putInt(continued);
            return first ? 40 : 24;
        }

        private byte[] segment(long at) {
            return segments.computeIfAbsent(at / WalFileName.SEGMENT_SIZE, s -> new byte[(int) WalFileName.SEGMENT_SIZE]);
        }

        /** The same WAL, to damage without touching this one. */
        Wal copy() {
            Wal copy = new Wal();
            segments.forEach((segno, bytes) -> copy.segments.put(segno, bytes.clone()));
            return copy;
        }

        void corrupt(long at) {
            segment(at)[(int) (at % WalFileName.SEGMENT_SIZE)] ^= 0x5a;
        }

        void putLong(long at, long value) {
            ByteBuffer.wrap(segment(at)).order(ByteOrder.LITTLE_ENDIAN).putLong((int) (at % WalFileName.SEGMENT_SIZE), value);
        }

        WalReader reader(Path dir) throws IOException {
            Files.createDirectories(dir);
            Map<WalFileName, Path> files = new HashMap<>();
            for (var s : segments.entrySet()) {
                WalFileName name = WalFileName.segment(1, s.getKey());
                Path file = dir.resolve(name.toString());
                Files.write(file, s.getValue());
                files.put(name, file);
            }
            return new WalReader(files, TimelineHistory.none(1));
        }
    }
}
