package dev.zenith.history;

import dev.zenith.Lsn;
import dev.zenith.storage.WalRecord.RelFile;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A committed transaction as its WAL shows it, before relation files are given table names: the rows
 * it inserted, updated and deleted per relation file, the files it dropped (a rewrite, a TRUNCATE, a
 * DROP), the relations whose cached definitions it invalidated (any DDL), and
 * every file it wrote. Immutable.
 *
 * @param commitLsn where its commit record starts: the point just before it
 * @param end where the commit record ends: the point just after it, as {@code --at} takes it
 * @param invalidated relations (database, oid) whose definitions it changed
 * @param written every relation file it changed, rows or pages, catalogs included
 */
public record Transaction(int xid, Lsn commitLsn, Lsn end, Instant time, Map<RelFile, RowCounts> rows,
                          Set<RelFile> dropped, Set<RelationId> invalidated, Set<RelFile> written) {

    /** A relation by database and oid, as an invalidation names it. */
    public record RelationId(long database, long oid) {
    }

    /**
     * A relation file by database and number, as the catalog knows it ({@code pg_relation_filenode}); the WAL's
     * {@link RelFile} also names its tablespace.
     */
    public record FileId(long database, long relNumber) {

        public static FileId of(RelFile file) {
            return new FileId(file.database(), file.relNumber());
        }
    }

    /** Rows a transaction changed in one relation file. */
    public record RowCounts(long inserted, long updated, long deleted) {

        static final RowCounts NONE = new RowCounts(0, 0, 0);

        RowCounts plus(RowCounts o) {
            return new RowCounts(inserted + o.inserted, updated + o.updated, deleted + o.deleted);
        }

        public boolean isEmpty() {
            return inserted == 0 && updated == 0 && deleted == 0;
        }
    }
}
