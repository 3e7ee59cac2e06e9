package dev.zenith.history;

import dev.zenith.Lsn;
import dev.zenith.history.Transaction.FileId;
import dev.zenith.history.Transaction.RelationId;
import dev.zenith.history.Transaction.RowCounts;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;
import dev.zenith.storage.WalRecord;
import dev.zenith.storage.WalRecord.RelFile;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Committed transactions, newest first, read from WAL a segment at a time going back, so the newest
 * appear after reading one segment however long the history is.
 *
 * <p>A transaction's records come before its commit, perhaps segments before. One is handed out only
 * once all of them have been read: when reading has passed a running-transactions record (every
 * checkpoint writes one, and a busy server one every 15 s) whose next transaction id is not above the
 * transaction's own, that is, the transaction began after it. Rolled-back transactions and
 * subtransactions leave nothing; a committed subtransaction's changes count for its top transaction.
 * Not thread-safe: one reader per request.
 */
public final class TransactionReader {

    private static final int XLOG_FPI = 0xb0;
    private static final int XACT_HAS_INFO = 0x80;
    private static final int XINFO_HAS_DBINFO = 1;
    private static final int XINFO_HAS_SUBXACTS = 1 << 1;
    private static final int XINFO_HAS_RELFILELOCATORS = 1 << 2;
    private static final int XINFO_HAS_INVALS = 1 << 3;
    private static final int XINFO_HAS_DROPPED_STATS = 1 << 8;
    private static final int RELCACHE_INVAL = -2;
    private static final int INVAL_MESSAGE = 16;
    /** From PostgreSQL 18 (its WAL page magic) a dropped-statistics item names its object in 64 bits. */
    private static final int PG18_PAGE_MAGIC = 0xD118;
    private static final int SMGR_CREATE = 0x10;
    private static final int RUNNING_XACTS = 0x10;
    private static final int HEAP_OPMASK = 0x70;
    private static final int HEAP_INSERT = 0x00;
    private static final int HEAP_DELETE = 0x10;
    private static final int HEAP_UPDATE = 0x20;
    private static final int HEAP_HOT_UPDATE = 0x40;
    private static final int HEAP2_MULTI_INSERT = 0x50;
    private static final int DELETE_IS_SUPER = 1 << 3;
    private static final int FORK_MAIN = 0;

    private final WalReader wal;
    private final Lsn to;
    private final Lsn from;
    private long nextSegment;
    private boolean exhausted;
    private boolean anyRead;
    /** Commits read and not handed out, by commit LSN. */
    private final TreeMap<Lsn, Building> waiting = new TreeMap<>();
    /** The same, by every transaction id that counts for them (subtransactions too). */
    private final Map<Integer, Building> byXid = new HashMap<>();
    /** Where each relation file read so far was created. */
    private final Map<FileId, Lsn> createdAt = new HashMap<>();
    /** The relations each commit read so far invalidated, by commit LSN. */
    private final TreeMap<Lsn, Set<RelationId>> invalidations = new TreeMap<>();
    /** The next transaction id of the oldest running-transactions record read: ids from it on began after it. */
    private Integer barrier;

    /**
     * Reads {@code wal} backwards from its last segment: commits before {@code to} (null: all there are)
     * and at or after {@code from} (null: back to where the WAL starts).
     */
    public TransactionReader(WalReader wal, Lsn to, Lsn from) {
        this.wal = wal;
        this.to = to;
        this.from = from;
        Optional<Long> last = wal.lastSegment();
        long top = to == null ? Long.MAX_VALUE : to.value() / WalFileName.SEGMENT_SIZE;
        this.nextSegment = last.map(l -> Math.min(l, top)).orElse(-1L);
        this.exhausted = last.isEmpty();
    }

    /** The next transaction, older than the last; empty at the end. */
    public Optional<Transaction> next() {
        while (true) {
            Map.Entry<Lsn, Building> newest = waiting.lastEntry();
            if (newest != null && (exhausted || newest.getValue().beganAfter(barrier))) {
                waiting.pollLastEntry();
                newest.getValue().xids.forEach(byXid::remove);
                return Optional.of(newest.getValue().build());
            }
            if (exhausted || (newest == null && from != null && nextSegment < from.value() / WalFileName.SEGMENT_SIZE)) {
                return Optional.empty();
            }
            read(nextSegment--);
        }
    }

    /**
     * Whether {@code relation} got its file {@code relNumber} in the transaction committed at {@code commit}:
     * the file was created before that commit and no commit in between changed the relation. A file's
     * creation is written before the transaction has an id (CREATE TABLE, TRUNCATE), so it is placed by
     * where it lies. Asked of a transaction handed out, whose records have all been read.
     */
    public boolean gotFileIn(Lsn commit, RelationId relation, long relNumber) {
        Lsn created = createdAt.get(new FileId(relation.database(), relNumber));
        return created != null && created.compareTo(commit) < 0
                && invalidations.subMap(created, false, commit, false).values().stream().noneMatch(s -> s.contains(relation));
    }

    private void read(long segno) {
        if (segno < 0) {
            exhausted = true;
            return;
        }
        Map<Integer, Changes> changes = new HashMap<>();
        Integer[] firstBarrier = {null};
        boolean[] any = {false};
        boolean goesOn = wal.forEachIn(segno, to, r -> {
            any[0] = true;
            switch (r.rmid()) {
                case WalRecord.RM_HEAP, WalRecord.RM_HEAP2 -> heap(r, changes);
                case WalRecord.RM_XLOG -> {
                    int op = r.info() & 0xf0;
                    if (op == XLOG_FPI && r.xid() != 0) { // pages a rewrite copied (VACUUM FULL, CLUSTER)
                        r.blocks().forEach(b -> changes.computeIfAbsent(r.xid(), x -> new Changes()).written.add(b.rel()));
                    }
                }
                case WalRecord.RM_SMGR -> {
                    if ((r.info() & 0xf0) == SMGR_CREATE && r.mainData().getInt(12) == FORK_MAIN) {
                        createdAt.put(FileId.of(RelFile.read(r.mainData(), 0)), r.lsn());
                    }
                }
                case WalRecord.RM_STANDBY -> {
                    if ((r.info() & 0xf0) == RUNNING_XACTS && firstBarrier[0] == null) {
                        firstBarrier[0] = r.mainData().getInt(12);
                    }
                }
                case WalRecord.RM_XACT -> xact(r);
                default -> {
                }
            }
        });
        if (!any[0] && !goesOn) {
            // nothing here: where the WAL starts, unless no segment has had records yet (the newest file of
            // a running compute may be one made ready for the future)
            exhausted = anyRead;
            return;
        }
        anyRead = true;
        // changes of an id no commit names are rolled back (a commit lists only its committed subtransactions)
        changes.forEach((xid, c) -> {
            Building t = byXid.get(xid);
            if (t != null) {
                t.add(c);
            }
        });
        if (firstBarrier[0] != null) {
            barrier = firstBarrier[0];
        }
    }

    private void heap(WalRecord r, Map<Integer, Changes> changes) {
        if (r.xid() == 0 || r.blocks().isEmpty()) {
            return;
        }
        int op = r.info() & HEAP_OPMASK;
        RelFile rel = r.blocks().getFirst().rel();
        ByteBuffer main = r.mainData();
        RowCounts rows = null;
        if (r.rmid() == WalRecord.RM_HEAP) {
            rows = switch (op) {
                case HEAP_INSERT -> new RowCounts(1, 0, 0);
                case HEAP_UPDATE, HEAP_HOT_UPDATE -> new RowCounts(0, 1, 0);
                // a speculative insertion that lost its conflict (INSERT ... ON CONFLICT) takes its row back
                case HEAP_DELETE -> r.mainLength() > 7 && (main.get(7) & DELETE_IS_SUPER) != 0
                        ? new RowCounts(-1, 0, 0) : new RowCounts(0, 0, 1);
                default -> null;
            };
        } else if (op == HEAP2_MULTI_INSERT && r.mainLength() >= 4) {
            rows = new RowCounts(Short.toUnsignedInt(main.getShort(2)), 0, 0);
        }
        if (rows == null) {
            return;
        }
        Changes c = changes.computeIfAbsent(r.xid(), x -> new Changes());
        c.rows.merge(rel, rows, RowCounts::plus);
        c.written.add(rel);
    }

    private void xact(WalRecord r) {
        if ((r.info() & WalRecord.XACT_OPMASK) != WalRecord.XACT_COMMIT) {
            return;
        }
        ByteBuffer m = r.mainData();
        int p = 8;
        int xinfo = 0;
        if ((r.info() & XACT_HAS_INFO) != 0) {
            xinfo = m.getInt(p);
            p += 4;
        }
        if ((xinfo & XINFO_HAS_DBINFO) != 0) {
            p += 8;
        }
        List<Integer> xids = new ArrayList<>();
        xids.add(r.xid());
        if ((xinfo & XINFO_HAS_SUBXACTS) != 0) {
            int n = m.getInt(p);
            for (int i = 0; i < n; i++) {
                xids.add(m.getInt(p + 4 + 4 * i));
            }
            p += 4 + 4 * n;
        }
        Set<RelFile> dropped = new HashSet<>();
        if ((xinfo & XINFO_HAS_RELFILELOCATORS) != 0) {
            int n = m.getInt(p);
            for (int i = 0; i < n; i++) {
                dropped.add(RelFile.read(m, p + 4 + 12 * i));
            }
            p += 4 + 12 * n;
        }
        if ((xinfo & XINFO_HAS_DROPPED_STATS) != 0) {
            int n = m.getInt(p);
            p += 4 + n * (r.magic() >= PG18_PAGE_MAGIC ? 16 : 12);
        }
        Set<RelationId> invalidated = new HashSet<>();
        if ((xinfo & XINFO_HAS_INVALS) != 0) {
            int n = m.getInt(p);
            for (int i = 0; i < n; i++) {
                int at = p + 4 + INVAL_MESSAGE * i;
                if (m.get(at) == RELCACHE_INVAL && m.getInt(at + 8) != 0) {
                    invalidated.add(new RelationId(Integer.toUnsignedLong(m.getInt(at + 4)), Integer.toUnsignedLong(m.getInt(at + 8))));
                }
            }
        }
        if (!invalidated.isEmpty()) {
            invalidations.put(r.lsn(), invalidated);
        }
        if (from != null && r.lsn().compareTo(from) < 0) {
            return;
        }
        Building t = new Building(r.xid(), r.lsn(), r.end(), WalReader.postgresTime(m.getLong(0)), xids, dropped, invalidated);
        waiting.put(r.lsn(), t);
        xids.forEach(x -> byXid.put(x, t));
    }

    /** What one transaction id did in one segment. */
    private static final class Changes {
        final Map<RelFile, RowCounts> rows = new LinkedHashMap<>();
        final Set<RelFile> written = new HashSet<>();
    }

    /** A commit read, gathering its changes as older segments are read. */
    private static final class Building {
        final int xid;
        final Lsn commitLsn;
        final Lsn end;
        final Instant time;
        final List<Integer> xids;
        final Set<RelFile> dropped;
        final Set<RelationId> invalidated;
        final Map<RelFile, RowCounts> rows = new LinkedHashMap<>();
        final Set<RelFile> written = new HashSet<>();

        Building(int xid, Lsn commitLsn, Lsn end, Instant time, List<Integer> xids, Set<RelFile> dropped,
                 Set<RelationId> invalidated) {
            this.xid = xid;
            this.commitLsn = commitLsn;
            this.end = end;
            this.time = time;
            this.xids = xids;
            this.dropped = dropped;
            this.invalidated = invalidated;
        }

        void add(Changes c) {
            c.rows.forEach((rel, n) -> rows.merge(rel, n, RowCounts::plus));
            written.addAll(c.written);
        }

        /** Whether every record of this transaction has been read: it began after the barrier (its top id came first). */
        boolean beganAfter(Integer barrier) {
            return barrier != null && xid - barrier >= 0;
        }

        Transaction build() {
            return new Transaction(xid, commitLsn, end, time, Map.copyOf(rows), Set.copyOf(dropped), Set.copyOf(invalidated),
                    Set.copyOf(written));
        }
    }
}
