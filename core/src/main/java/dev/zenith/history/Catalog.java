package dev.zenith.history;

import dev.zenith.history.Transaction.FileId;
import dev.zenith.history.Transaction.RelationId;
import dev.zenith.storage.WalRecord.RelFile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The relations of a server's databases at one point, as {@code pg_class} lists them: what the log
 * needs to turn relation files and oids into table names. Immutable.
 */
public record Catalog(List<Relation> relations) {

    /** Catalogs of Postgres's own have oids below this (FirstNormalObjectId). */
    static final long FIRST_USER_OID = 16384;
    /** {@code pg_class}: a transaction that inserts into it makes relations. */
    static final long PG_CLASS = 1259;
    /** Where ANALYZE writes: a transaction that wrote no other catalog changed no definitions. */
    static final long PG_STATISTIC = 2619;

    /**
     * One relation: {@code relNumber} is its file ({@code pg_relation_filenode}, 0 for none), {@code kind}
     * its {@code relkind}.
     */
    public record Relation(long database, String databaseName, long oid, long relNumber, String schema, String name, char kind) {

        public RelationId id() {
            return new RelationId(database, oid);
        }

        /** A table whose rows users change: not a catalog, an index, a sequence or a TOAST table. */
        public boolean isUserTable() {
            return oid >= FIRST_USER_OID && (kind == 'r' || kind == 'p' || kind == 'm')
                    && !schema.equals("pg_catalog") && !schema.equals("information_schema");
        }

        /** How the log names it: {@code schema.table}, behind the database's name unless that is {@code postgres}. */
        public String displayName() {
            String qualified = schema + "." + name;
            return databaseName.equals("postgres") ? qualified : databaseName + ":" + qualified;
        }
    }

    /** Lookups over relations, the ones added first winning: a newer catalog is added before older ones. */
    public static final class Index {
        private final Map<RelationId, Relation> byOid = new HashMap<>();
        private final Map<FileId, Relation> byFile = new HashMap<>();

        public void add(Catalog catalog) {
            for (Relation r : catalog.relations()) {
                byOid.putIfAbsent(r.id(), r);
                if (r.relNumber() != 0) {
                    byFile.putIfAbsent(new FileId(r.database(), r.relNumber()), r);
                }
            }
        }

        public Optional<Relation> ofFile(RelFile file) {
            return Optional.ofNullable(byFile.get(FileId.of(file)));
        }

        public Optional<Relation> ofOid(RelationId id) {
            return Optional.ofNullable(byOid.get(id));
        }
    }
}
