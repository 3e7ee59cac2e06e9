package dev.zenith.schema;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.model.DataDiff;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.BaseConnection;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The rows of two databases' tables compared, as {@code zenith diff --data} shows them. Each table is read
 * once per side, both sides at the same time, as a stream of its key and a hash of the rest ordered by
 * key, and merged: memory holds a few batches of keys, whatever the table's size. Only the rows to show
 * are read whole, by key, afterwards. Tables whose primary key is the same on both sides match rows by
 * it; others by whole row, which can say added and removed but not changed. A table the caller knows is
 * unchanged on both sides (the WAL says so) is not read at all.
 *
 * <p>Written here rather than with a library: data-diff's checksums of key ranges save network transfer
 * between remote databases, but re-read a table at each level where ranges differ; on one machine a
 * single ordered pass is the cheaper of the two. Stateless.
 */
public final class DataComparison {

    /** Why a table need not be read, if the caller knows: its oid and file on each side. */
    public interface UnchangedCheck {
        Optional<String> why(long fromOid, long fromFile, long toOid, long toFile);
    }

    private record Column(String name, String type, boolean numeric) {
    }

    private record Shape(long oid, long file, List<Column> columns, List<String> primaryKey) {
        Column column(String name) {
            return columns.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
        }
    }

    private static final int BATCH = 10_000;

    private static final String TABLES = "SELECT c.oid, coalesce(pg_relation_filenode(c.oid), 0), format('%I.%I', n.nspname, c.relname)"
            + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm')"
            + " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
            + " AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')";
    private static final String COLUMNS = "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'N'"
            + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = ANY(?) AND a.attnum > 0 AND NOT a.attisdropped"
            + " ORDER BY a.attrelid, a.attnum";
    private static final String PRIMARY_KEYS = "SELECT i.indrelid, array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i"
            + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)"
            + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indisprimary AND i.indrelid = ANY(?)"
            + " GROUP BY i.indrelid";

    private DataComparison() {
    }

    /** Compares the tables both databases have (those named in {@code only}, when any), listing at most {@code limit} rows each. */
    public static List<DataDiff.Table> compare(Connection from, Connection to, Set<String> only, int limit, UnchangedCheck unchanged)
            throws SQLException {
        Map<String, Shape> fromTables = shapes(from);
        Map<String, Shape> toTables = shapes(to);
        TreeMap<String, Boolean> names = new TreeMap<>();
        fromTables.keySet().forEach(n -> names.put(n, true));
        toTables.keySet().forEach(n -> names.put(n, true));
        List<DataDiff.Table> tables = new ArrayList<>();
        for (String name : names.keySet()) {
            if (!only.isEmpty() && !only.contains(name) && !only.contains(name.substring(name.indexOf('.') + 1))) {
                continue;
            }
            Shape a = fromTables.get(name);
            Shape b = toTables.get(name);
            if (a == null || b == null) {
                tables.add(oneSided(a == null ? to : from, name, a == null, limit));
                continue;
            }
            Optional<String> why = unchanged.why(a.oid(), a.file(), b.oid(), b.file());
            if (why.isPresent()) {
                tables.add(new DataDiff.Table(name, null, null, 0, 0, 0, why.get(), null, null, List.of(), false));
                continue;
            }
            tables.add(compareTable(from, to, name, a, b, limit));
        }
        for (String asked : only) {
            if (tables.stream().noneMatch(t -> t.table().equals(asked) || t.table().endsWith("." + asked))) {
                throw new IllegalArgumentException("no table " + asked + " on either side; tables are named as schema.table or table");
            }
        }
        return tables;
    }

    /**
     * The SQL of a row's 64-bit hash (a changed row goes unseen once in 2^64). Each column's own hash function
     * ({@code hash_record_extended}) where both sides have the same column types and every type has one: no
     * row is turned into text, which costs as much as reading it. Else the hash of the row as text, which also
     * sees a value as the same across a type change (5 as integer and as bigint).
     */
    private static String rowHash(Connection from, Connection to, String table, Shape a, Shape b, List<Column> common) throws SQLException {
        String row = "ROW(" + String.join(", ", common.stream().map(c -> "t." + quote(c.name())).toList()) + ")";
        boolean sameTypes = common.stream().allMatch(c -> c.type().equals(b.column(c.name()).type()));
        String byColumn = "hash_record_extended(" + row + ", 0)";
        if (sameTypes && hashes(from, table, byColumn) && hashes(to, table, byColumn)) {
            return byColumn;
        }
        return "hashtextextended(" + row + "::text, 0)";
    }

    /** Whether every column of the table has a hash function: tried on a row (json, for one, has none). */
    private static boolean hashes(Connection c, String table, String hash) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        java.sql.Savepoint before = c.setSavepoint();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + hash + " FROM " + table + " t LIMIT 1")) {
            rs.next();
            return true;
        } catch (SQLException e) {
            c.rollback(before);
            return false;
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }

    /** How a key column is read and ordered: integers and other numbers as numbers, anything else as text in bytes. */
    private enum KeyKind { INTEGER, NUMERIC, TEXT }

    private static final Set<String> INTEGER_TYPES = Set.of("smallint", "integer", "bigint");

    private static DataDiff.Table compareTable(Connection from, Connection to, String name, Shape a, Shape b, int limit) throws SQLException {
        List<Column> common = a.columns().stream().filter(c -> b.column(c.name()) != null).toList();
        List<String> onlyFrom = a.columns().stream().map(Column::name).filter(n -> b.column(n) == null).toList();
        List<String> onlyTo = b.columns().stream().map(Column::name).filter(n -> a.column(n) == null).toList();
        boolean keyed = !a.primaryKey().isEmpty() && a.primaryKey().equals(b.primaryKey())
                && a.primaryKey().stream().allMatch(k -> b.column(k) != null);
        List<String> key = keyed ? a.primaryKey() : List.of();
        KeyKind[] kinds = new KeyKind[keyed ? key.size() : 1];
        kinds[0] = KeyKind.INTEGER; // whole-row matching: the key is the row's hash
        for (int i = 0; i < key.size(); i++) {
            Column x = a.column(key.get(i));
            Column y = b.column(key.get(i));
            kinds[i] = INTEGER_TYPES.contains(x.type()) && INTEGER_TYPES.contains(y.type()) ? KeyKind.INTEGER
                    : x.numeric() && y.numeric() ? KeyKind.NUMERIC : KeyKind.TEXT;
        }
        String hash = rowHash(from, to, name, a, b, common);
        List<String> selected = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            selected.add("t." + quote(key.get(i)) + (kinds[i] == KeyKind.INTEGER ? "::bigint" : "::text"));
        }
        String stream = keyed
                ? "SELECT " + String.join(", ", selected) + ", " + hash + ", 1::bigint FROM " + name + " t ORDER BY "
                        + String.join(", ", orderBy(key, kinds))
                : "SELECT h, h, n FROM (SELECT " + hash + " AS h, count(*) AS n FROM " + name + " t GROUP BY 1) g ORDER BY h";

        long added = 0;
        long removed = 0;
        long changed = 0;
        List<String[]> addedKeys = new ArrayList<>();
        List<String[]> removedKeys = new ArrayList<>();
        List<String[]> changedKeys = new ArrayList<>();
        try (Side left = new Side(from, stream, kinds); Side right = new Side(to, stream, kinds)) {
            boolean l = left.advance();
            boolean r = right.advance();
            while (l || r) {
                int c = !l ? 1 : !r ? -1 : left.compareKey(right);
                if (c == 0 && keyed && left.hash() != right.hash()) {
                    changed++;
                    keep(changedKeys, left, limit);
                } else if (c == 0 && !keyed && left.count() != right.count()) {
                    long more = right.count() - left.count();
                    added += Math.max(more, 0);
                    removed += Math.max(-more, 0);
                    keep(more > 0 ? addedKeys : removedKeys, left, limit);
                } else if (c < 0) {
                    removed += left.count();
                    keep(removedKeys, left, limit);
                } else if (c > 0) {
                    added += right.count();
                    keep(addedKeys, right, limit);
                }
                if (c <= 0) {
                    l = left.advance();
                }
                if (c >= 0) {
                    r = right.advance();
                }
            }
        }
        List<DataDiff.Row> rows = new ArrayList<>();
        int room = limit;
        List<String[]> shownRemoved = removedKeys.subList(0, Math.min(room, removedKeys.size()));
        Map<String, JsonNode> removedRows = fetch(from, name, a, key, shownRemoved, hash);
        shownRemoved.forEach(k -> rows.add(row("removed", key, k, removedRows.get(String.join("\u0000", k)), null)));
        room -= shownRemoved.size();
        List<String[]> shownAdded = addedKeys.subList(0, Math.min(room, addedKeys.size()));
        Map<String, JsonNode> addedRows = fetch(to, name, b, key, shownAdded, hash);
        shownAdded.forEach(k -> rows.add(row("added", key, k, addedRows.get(String.join("\u0000", k)), null)));
        room -= shownAdded.size();
        List<String[]> shownChanged = changedKeys.subList(0, Math.min(room, changedKeys.size()));
        Map<String, JsonNode> before = fetch(from, name, a, key, shownChanged, hash);
        Map<String, JsonNode> after = fetch(to, name, b, key, shownChanged, hash);
        for (String[] k : shownChanged) {
            String id = String.join("\u0000", k);
            rows.add(row("changed", key, k, null, columnsThatDiffer(common, before.get(id), after.get(id))));
        }
        return new DataDiff.Table(name, keyed ? "primary key" : "whole row", keyed ? key : null, added, removed, changed, null,
                onlyFrom.isEmpty() ? null : onlyFrom, onlyTo.isEmpty() ? null : onlyTo, rows, added + removed + changed > rows.size());
    }

    private static void keep(List<String[]> keys, Side side, int limit) {
        if (keys.size() < limit) {
            keys.add(side.keyText());
        }
    }

    private static DataDiff.Row row(String change, List<String> keyNames, String[] key, JsonNode whole, Map<String, DataDiff.Values> columns) {
        Map<String, JsonNode> keyValues = null;
        if (!keyNames.isEmpty()) {
            keyValues = new LinkedHashMap<>();
            for (int i = 0; i < keyNames.size(); i++) {
                keyValues.put(keyNames.get(i), whole != null && whole.has(keyNames.get(i)) ? whole.get(keyNames.get(i))
                        : Json.MAPPER.getNodeFactory().textNode(key[i]));
            }
        }
        Map<String, JsonNode> values = null;
        if (whole != null) {
            values = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = whole.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                values.put(e.getKey(), e.getValue());
            }
        }
        return new DataDiff.Row(change, keyValues, values, columns);
    }

    private static Map<String, DataDiff.Values> columnsThatDiffer(List<Column> common, JsonNode before, JsonNode after) {
        Map<String, DataDiff.Values> differ = new LinkedHashMap<>();
        for (Column c : common) {
            JsonNode x = before == null ? null : before.get(c.name());
            JsonNode y = after == null ? null : after.get(c.name());
            if (!java.util.Objects.equals(x, y)) {
                differ.put(c.name(), new DataDiff.Values(x, y));
            }
        }
        return differ;
    }

    /**
     * The rows with these keys (for whole-row matching: these row hashes), whole, as JSON objects by their
     * key joined with NUL. Looked up through the primary key's index: {@code = ANY} of an array per column.
     */
    private static Map<String, JsonNode> fetch(Connection c, String table, Shape shape, List<String> key, List<String[]> keys, String hash)
            throws SQLException {
        Map<String, JsonNode> rows = new HashMap<>();
        if (keys.isEmpty()) {
            return rows;
        }
        String sql;
        if (key.isEmpty()) {
            sql = "SELECT DISTINCT ON (1) " + hash + "::text, row_to_json(t)::text FROM " + table + " t WHERE " + hash + " = ANY(?::text[]::bigint[])";
        } else {
            List<String> arrays = key.stream().map(k -> "?::text[]::" + shape.column(k).type() + "[]").toList();
            sql = "SELECT " + String.join(", ", key.stream().map(k -> quote(k) + "::text").toList()) + ", row_to_json(t)::text FROM "
                    + table + " t WHERE (" + String.join(", ", key.stream().map(DataComparison::quote).toList())
                    + ") IN (SELECT * FROM unnest(" + String.join(", ", arrays) + "))";
        }
        int columns = Math.max(key.size(), 1);
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < columns; i++) {
                int column = i;
                Array values = c.createArrayOf("text", keys.stream().map(k -> k[column]).toArray());
                s.setArray(i + 1, values);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    String[] k = new String[columns];
                    for (int i = 0; i < columns; i++) {
                        k[i] = rs.getString(i + 1);
                    }
                    rows.put(String.join("\u0000", k), Json.MAPPER.readTree(rs.getString(columns + 1)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    /** A table on one side only: every row added or removed. */
    private static DataDiff.Table oneSided(Connection c, String name, boolean added, int limit) throws SQLException {
        long count;
        List<DataDiff.Row> rows = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + name)) {
                rs.next();
                count = rs.getLong(1);
            }
            try (ResultSet rs = s.executeQuery("SELECT row_to_json(t)::text FROM " + name + " t LIMIT " + limit)) {
                while (rs.next()) {
                    rows.add(row(added ? "added" : "removed", List.of(), null, Json.MAPPER.readTree(rs.getString(1)), null));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DataDiff.Table(name, added ? "only in TO" : "only in FROM", null, added ? count : 0, added ? 0 : count, 0, null,
                null, null, rows, count > rows.size());
    }

    /** Qualified: a bare name in ORDER BY would mean the output column of that name (for a text key, the key as text). */
    private static List<String> orderBy(List<String> key, KeyKind[] kinds) {
        List<String> order = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            String column = "t." + quote(key.get(i));
            order.add(kinds[i] == KeyKind.TEXT ? column + "::text COLLATE \"C\"" : column);
        }
        return order;
    }

    private static Map<String, Shape> shapes(Connection c) throws SQLException {
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> files = new HashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(TABLES)) {
            while (rs.next()) {
                names.put(rs.getLong(1), rs.getString(3));
                files.put(rs.getLong(1), rs.getLong(2));
            }
        }
        Long[] oids = names.keySet().toArray(Long[]::new);
        Map<Long, List<Column>> columns = new HashMap<>();
        Map<Long, List<String>> keys = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement(COLUMNS)) {
            s.setArray(1, c.createArrayOf("oid", oids));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    columns.computeIfAbsent(rs.getLong(1), o -> new ArrayList<>()).add(new Column(rs.getString(2), rs.getString(3), rs.getBoolean(4)));
                }
            }
        }
        try (PreparedStatement s = c.prepareStatement(PRIMARY_KEYS)) {
            s.setArray(1, c.createArrayOf("oid", oids));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    keys.put(rs.getLong(1), List.of((String[]) rs.getArray(2).getArray()));
                }
            }
        }
        Map<String, Shape> shapes = new HashMap<>();
        names.forEach((oid, name) -> shapes.put(name, new Shape(oid, files.get(oid), columns.getOrDefault(oid, List.of()),
                keys.getOrDefault(oid, List.of()))));
        return shapes;
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** Rows of one side's stream, read on its reader thread: each row's key as it compares, its hash and count. */
    private static final class Batch {
        /** A single integer key, unboxed: the common case, and the one a 1 GB table is read fastest in. */
        final long[] ints;
        /** Other keys: per row, per column a Long, a BigDecimal or the text's UTF-8 bytes. */
        final Object[][] keys;
        final long[] hashes = new long[BATCH];
        final long[] counts = new long[BATCH];
        int size;

        Batch(boolean singleInteger) {
            ints = singleInteger ? new long[BATCH] : null;
            keys = singleInteger ? null : new Object[BATCH][];
        }
    }

    private static final Batch END = new Batch(true);

    /**
     * One side's stream, read ahead on a thread of its own into a few batches, so both servers scan at
     * once and the merge waits on the slower only.
     */
    private static final class Side implements AutoCloseable {
        private final BlockingQueue<Object> batches = new ArrayBlockingQueue<>(4);
        private final Thread reader;
        private final KeyKind[] kinds;
        private final boolean singleInteger;
        private Batch batch = new Batch(true);
        private int row = -1;
        private volatile boolean closed;

        Side(Connection c, String sql, KeyKind[] kinds) {
            this.kinds = kinds;
            this.singleInteger = kinds.length == 1 && kinds[0] == KeyKind.INTEGER;
            reader = Thread.ofVirtual().name("data-diff").start(() -> read(c, sql));
        }

        /**
         * Reads the stream with COPY in binary: no cursor round trips and no text to parse, which on a large
         * table cost more than the server's own work. Every field is a bigint or text (see the stream's SQL).
         */
        private void read(Connection c, String sql) {
            try {
                CopyOut copy = new CopyManager(c.unwrap(BaseConnection.class)).copyOut("COPY (" + sql + ") TO STDOUT (FORMAT binary)");
                try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(new CopyStream(copy), 1 << 16))) {
                    in.skipNBytes(11); // PGCOPY\n\377\r\n\0
                    in.readInt(); // flags
                    in.skipNBytes(in.readInt()); // header extension
                    Batch filling = new Batch(singleInteger);
                    while (!closed && in.readShort() != -1) {
                        int i = filling.size++;
                        if (singleInteger) {
                            in.readInt();
                            filling.ints[i] = in.readLong();
                        } else {
                            Object[] key = new Object[kinds.length];
                            for (int k = 0; k < kinds.length; k++) {
                                int length = in.readInt();
                                key[k] = switch (kinds[k]) {
                                    case INTEGER -> in.readLong();
                                    case NUMERIC -> new BigDecimal(new String(in.readNBytes(length), StandardCharsets.US_ASCII));
                                    case TEXT -> in.readNBytes(length);
                                };
                            }
                            filling.keys[i] = key;
                        }
                        in.readInt();
                        filling.hashes[i] = in.readLong();
                        in.readInt();
                        filling.counts[i] = in.readLong();
                        if (filling.size == BATCH) {
                            batches.put(filling);
                            filling = new Batch(singleInteger);
                        }
                    }
                    batches.put(filling);
                    batches.put(END);
                    // past the trailer: read to the end, so the COPY completes and the connection is free again. Whatever
                    // close() says: the merge may be done already, and a COPY cancelled now would cancel the next query
                    while (in.read() >= 0) {
                        continue;
                    }
                } finally {
                    if (copy.isActive()) {
                        copy.cancelCopy(); // stopped early: the server is told to stop sending
                    }
                }
            } catch (SQLException e) {
                batches.offer(e);
            } catch (IOException e) {
                batches.offer(new SQLException("reading the rows: " + e.getMessage(), e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Moves to the next row; false at the end. */
        boolean advance() throws SQLException {
            while (++row >= batch.size) {
                if (batch == END) {
                    return false;
                }
                Object taken;
                try {
                    taken = batches.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", e);
                }
                if (taken instanceof SQLException e) {
                    throw e;
                }
                batch = (Batch) taken;
                row = -1;
            }
            return true;
        }

        long hash() {
            return batch.hashes[row];
        }

        long count() {
            return batch.counts[row];
        }

        /** This row's key against the other side's, in the order the stream's SQL sorts them. */
        int compareKey(Side other) {
            if (singleInteger) {
                return Long.compare(batch.ints[row], other.batch.ints[other.row]);
            }
            Object[] x = batch.keys[row];
            Object[] y = other.batch.keys[other.row];
            for (int k = 0; k < kinds.length; k++) {
                int c = switch (kinds[k]) {
                    case INTEGER -> Long.compare((Long) x[k], (Long) y[k]);
                    case NUMERIC -> ((BigDecimal) x[k]).compareTo((BigDecimal) y[k]);
                    case TEXT -> Arrays.compareUnsigned((byte[]) x[k], (byte[]) y[k]);
                };
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        }

        /** This row's key as the server writes it as text, to look the row up by. */
        String[] keyText() {
            if (singleInteger) {
                return new String[] {Long.toString(batch.ints[row])};
            }
            Object[] key = batch.keys[row];
            String[] text = new String[key.length];
            for (int k = 0; k < key.length; k++) {
                text[k] = key[k] instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8)
                        : key[k] instanceof BigDecimal d ? d.toPlainString() : key[k].toString();
            }
            return text;
        }

        /**
         * Stops the reader at its next row and waits for it, taking batches off so a full queue lets it go on.
         * Not an interrupt: that would close the connection under a virtual thread's socket read.
         */
        @Override
        public void close() {
            closed = true;
            try {
                while (reader.isAlive()) {
                    batches.poll(10, java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A COPY's data as a stream of bytes, its messages one after another. */
    private static final class CopyStream extends java.io.InputStream {
        private final CopyOut copy;
        private byte[] chunk = new byte[0];
        private int at;

        CopyStream(CopyOut copy) {
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (at == chunk.length) {
                try {
                    chunk = copy.readFromCopy();
                } catch (SQLException e) {
                    throw new IOException(e.getMessage(), e);
                }
                at = 0;
                if (chunk == null) {
                    chunk = new byte[0];
                    return -1;
                }
            }
            int n = Math.min(len, chunk.length - at);
            System.arraycopy(chunk, at, b, off, n);
            at += n;
            return n;
        }
    }
}
