package dev.zenith.history;

import dev.zenith.history.Catalog.Relation;
import dev.zenith.history.Transaction.FileId;
import dev.zenith.history.Transaction.RelationId;
import dev.zenith.history.Transaction.RowCounts;
import dev.zenith.storage.WalRecord.RelFile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Transactions newest first with their relation files named: the rows each changed per table and the
 * DDL it ran, tables keeping the name they have at the newest point however often they were renamed or
 * rewritten.
 *
 * <p>Names come from the catalog at the newest point. A file that is gone there was dropped by a later
 * transaction (read already, going back): the catalog just before that transaction names it, asked of
 * {@code catalogBefore} (a read-only view) only when rows in that file, or a table dropped, are to be
 * shown: a view replays WAL, seconds on a large database. Which file a table had after each transaction
 * is followed back from the newest: a transaction that dropped a table's file gave it that file before.
 * Not thread-safe: one per request.
 */
public final class TableHistory {

    /** What DDL did to a table in one transaction. */
    public enum Ddl { CREATED, ALTERED, REWRITTEN, TRUNCATED, DROPPED }

    /** One table's part in a transaction. */
    public record TableChange(Relation table, RowCounts rows, Ddl ddl) {
    }

    /** A transaction with its tables named; {@code tables} is empty when it touched none (ANALYZE, roles, zenith's own). */
    public record Entry(Transaction transaction, List<TableChange> tables) {
    }

    private final TransactionReader reader;
    private final Function<Transaction, Optional<Catalog>> catalogBefore;
    private final Catalog.Index index = new Catalog.Index();
    /** Each table's file after the transaction being named; absent: the table did not exist then. */
    private final Map<RelationId, Long> fileAfter = new HashMap<>();
    /** A file a table had that is not known without a catalog of the past (see {@link #name}). */
    private static final long UNKNOWN_FILE = -1;
    /** The transaction that dropped each file, for the files read so far. */
    private final Map<FileId, Transaction> droppedBy = new HashMap<>();

    public TableHistory(TransactionReader reader, Catalog newest, Function<Transaction, Optional<Catalog>> catalogBefore) {
        this.reader = reader;
        this.catalogBefore = catalogBefore;
        index.add(newest);
        newest.relations().stream().filter(Relation::isUserTable).forEach(r -> fileAfter.put(r.id(), r.relNumber()));
    }

    public Optional<Entry> next() {
        return reader.next().map(this::name);
    }

    private Entry name(Transaction t) {
        // rows in a file gone by the newest point: the catalog just before the transaction that dropped it names it
        for (RelFile f : t.rows().keySet()) {
            Transaction dropper = droppedBy.get(FileId.of(f));
            if (dropper != null && f.relNumber() >= Catalog.FIRST_USER_OID && index.ofFile(f).isEmpty()) {
                catalogBefore.apply(dropper).ifPresent(index::add);
            }
        }
        // a table dropped here, not in the newest catalog: the catalog just before names it
        if (!t.dropped().isEmpty() && t.invalidated().stream().anyMatch(id -> id.oid() >= Catalog.FIRST_USER_OID && index.ofOid(id).isEmpty())) {
            catalogBefore.apply(t).ifPresent(index::add);
        }
        t.dropped().forEach(f -> droppedBy.put(FileId.of(f), t));
        boolean definitions = t.written().stream().map(index::ofFile).flatMap(Optional::stream)
                .anyMatch(r -> r.oid() < Catalog.FIRST_USER_OID && r.oid() != Catalog.PG_STATISTIC);
        boolean madeRelations = t.rows().entrySet().stream().anyMatch(e -> e.getValue().inserted() > 0
                && index.ofFile(e.getKey()).filter(r -> r.oid() == Catalog.PG_CLASS).isPresent());
        // files dropped by a transaction that also made relations: a rewrite (its new heap is made as a relation
        // of its own first) or a new table beside a dropped one; only the catalog before tells them apart
        if (madeRelations && t.dropped().stream().anyMatch(f -> index.ofFile(f).isEmpty())
                && t.invalidated().stream().anyMatch(id -> gotFile(t, id))) {
            catalogBefore.apply(t).ifPresent(index::add);
        }
        Map<RelationId, Long> droppedFile = new HashMap<>();
        for (RelFile f : t.dropped()) {
            index.ofFile(f).ifPresent(r -> droppedFile.put(r.id(), f.relNumber()));
        }
        Map<RelationId, Ddl> ddl = new HashMap<>();
        Set<FileId> copiedInto = new HashSet<>();
        Set<RelationId> touched = new HashSet<>(t.invalidated());
        touched.addAll(droppedFile.keySet());
        for (RelationId id : touched) {
            Optional<Relation> rel = index.ofOid(id);
            if (rel.isEmpty() || !rel.get().isUserTable()) {
                continue;
            }
            Long after = fileAfter.get(id);
            Long before = droppedFile.get(id);
            boolean newFile = gotFile(t, id);
            if (before == null && newFile && !t.dropped().isEmpty() && !madeRelations) {
                // it got a new file and dropped files while making no relation: a TRUNCATE or a rewrite, its old file
                // one of those dropped; which one is asked of a catalog only if older rows need it
                before = UNKNOWN_FILE;
            }
            if (before != null && after != null) {
                boolean filled = after != UNKNOWN_FILE && t.written().stream()
                        .anyMatch(f -> f.database() == id.database() && f.relNumber() == after);
                ddl.put(id, filled ? Ddl.REWRITTEN : Ddl.TRUNCATED);
                if (filled) {
                    copiedInto.add(new FileId(id.database(), after));
                }
                fileAfter.put(id, before);
            } else if (before != null) {
                ddl.put(id, Ddl.DROPPED);
                fileAfter.put(id, before);
            } else if (after == null) {
                ddl.put(id, Ddl.DROPPED); // a table without a file of its own: partitioned
                fileAfter.put(id, 0L);
            } else if (newFile || (after == UNKNOWN_FILE && reader.gotFileIn(t.commitLsn(), id, id.oid()))) {
                ddl.put(id, Ddl.CREATED); // a new table's first file is numbered as its oid
                fileAfter.remove(id);
            } else if (definitions) {
                ddl.put(id, Ddl.ALTERED);
            }
        }
        Map<RelationId, RowCounts> rows = new HashMap<>();
        Map<RelationId, Relation> tables = new HashMap<>();
        t.rows().forEach((file, counts) -> index.ofFile(file).filter(Relation::isUserTable).ifPresent(r -> {
            if (!copiedInto.contains(FileId.of(file))) {
                rows.merge(r.id(), counts, RowCounts::plus);
                tables.put(r.id(), index.ofOid(r.id()).orElse(r)); // its newest name
            }
        }));
        ddl.keySet().forEach(id -> tables.put(id, index.ofOid(id).orElseThrow()));
        List<TableChange> changes = new ArrayList<>();
        tables.forEach((id, r) -> {
            RowCounts n = rows.getOrDefault(id, RowCounts.NONE);
            if (!n.isEmpty() || ddl.containsKey(id)) {
                changes.add(new TableChange(r, n, ddl.get(id)));
            }
        });
        changes.sort(Comparator.comparing(c -> c.table().displayName()));
        return new Entry(t, List.copyOf(changes));
    }

    /** Whether the table got the file it has after {@code t} in {@code t}. */
    private boolean gotFile(Transaction t, RelationId id) {
        Long after = fileAfter.get(id);
        return after != null && after != UNKNOWN_FILE && after != 0 && reader.gotFileIn(t.commitLsn(), id, after);
    }
}
