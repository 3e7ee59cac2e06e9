package dev.zenith.storage;

import dev.zenith.Lsn;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The WAL reader on WAL made for the test, laid out as Postgres writes it ({@link WalSegments}), so each
 * rule that finds a commit or the end of valid WAL is checked without a Postgres. {@code TimeTravelTest}
 * reads real WAL.
 */
class WalReaderTest {

    private static final Instant T1 = Instant.parse("2026-01-01T10:00:00Z");
    private static final Instant T2 = T1.plus(Duration.ofHours(1));
    private static final Instant T3 = T2.plus(Duration.ofHours(1));
    private static final Instant T4 = T3.plus(Duration.ofHours(1));
    private static final Lsn START = new Lsn(WalFileName.SEGMENT_SIZE);
    private static final Lsn END = Lsn.parse("FF/0");

    @TempDir
    static Path dir;
    /**
     * Written once, two 16 MiB segments: commit A at T1; a 10 kB record over a page boundary; commit C at
     * T2; zenith's restore point D and its commit E at T3; records filling the segment, the last one
     * running into segment 2; commit F at T4.
     */
    private static WalSegments wal;
    private static Map<WalFileName, Path> files;
    private static WalReader reader;
    private static Lsn a;
    private static Lsn c;
    private static Lsn d;
    private static Lsn e;
    private static Lsn f;

    @BeforeAll
    static void writeWal() {
        wal = new WalSegments(1);
        a = wal.commit(100, T1);
        wal.append(WalSegments.RM_XLOG, 0, 0, new byte[10_000]);
        c = wal.commit(101, T2);
        d = wal.restorePoint(102, "zenith branch feature");
        e = wal.commit(102, T3);
        wal.fillTo(2 * WalFileName.SEGMENT_SIZE + 50_000);
        f = wal.commit(103, T4);
        assertThat(f.value() / WalFileName.SEGMENT_SIZE).isEqualTo(2);
        files = wal.writeTo(dir.resolve("intact"));
        reader = new WalReader(files, TimelineHistory.none(1));
    }

    @Test
    void findsTheFirstCommitAfterATimeAcrossPagesAndSegments() {
        assertThat(reader.firstCommitAfter(T1.minusSeconds(1), START, END)).contains(a);
        assertThat(reader.firstCommitAfter(T1, START, END)).as("past a record that spans a page").contains(c);
        assertThat(reader.firstCommitAfter(T2, START, END)).as("zenith's own commit counts as a commit").contains(e);
        assertThat(reader.firstCommitAfter(T3, START, END)).as("past a record that spans two segments").contains(f);
        assertThat(reader.firstCommitAfter(T3, f, END)).as("starting in a segment that begins mid-record").contains(f);
        assertThat(reader.firstCommitAfter(T4, START, END)).as("nothing after the last commit").isEmpty();
        assertThat(reader.firstCommitAfter(T1, START, c)).as("only before the end asked for").isEmpty();
        assertThat(reader.firstCommitAfter(T1.minusSeconds(1), c, END)).as("only from the start asked for").contains(c);
    }

    @Test
    void zenithsOwnRestorePointTransactionIsNotAChange() {
        assertThat(reader.hasTransactionsAfter(d, f)).as("only the branch point's own commit").isFalse();
        assertThat(reader.hasTransactionsAfter(d, END)).isTrue();
        assertThat(reader.hasTransactionsAfter(START, d)).isTrue();
    }

    @Test
    void readingStopsWhereTheWalStopsBeingValid() {
        WalSegments corrupt = wal.copy();
        corrupt.corrupt(c.value() + 30);
        assertThat(withFirstSegmentOf(corrupt, "corrupt").firstCommitAfter(T1, START, END))
                .as("a CRC that does not match ends the WAL").isEmpty();

        WalSegments unlinked = wal.copy();
        unlinked.putLong(c.value() + 8, a.value());
        assertThat(withFirstSegmentOf(unlinked, "unlinked").firstCommitAfter(T1, START, END))
                .as("a back link that does not point at the previous record ends the WAL").isEmpty();

        Map<WalFileName, Path> missing = new HashMap<>(files);
        missing.remove(WalFileName.segment(1, 2));
        assertThat(new WalReader(missing, TimelineHistory.none(1)).firstCommitAfter(T3, START, END))
                .as("a segment not in the archive ends the WAL").isEmpty();
    }

    /** The intact WAL but its first segment, taken from {@code damaged}: only that file is written again. */
    private static WalReader withFirstSegmentOf(WalSegments damaged, String name) {
        Path file = dir.resolve(name).resolve(WalFileName.segment(1, 1).toString());
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, damaged.segments.get(1L));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        Map<WalFileName, Path> mixed = new HashMap<>(files);
        mixed.put(WalFileName.segment(1, 1), file);
        return new WalReader(mixed, TimelineHistory.none(1));
    }
}
