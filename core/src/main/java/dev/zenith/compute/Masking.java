package dev.zenith.compute;

import dev.zenith.MaskRules;
import dev.zenith.MaskRules.Rule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The SQL that masks a database's columns by {@link MaskRules}, run on a private copy that becomes a new
 * root ({@link DerivedRoots}): the checks that refuse a rule before anything is written, and one UPDATE per
 * table whose expressions are computed from the old values. Hashes are keyed by the repository's own
 * secret, so the same input gives the same output in every table and every masked branch of this
 * repository (joins and unique keys hold), and nobody without the key can test a guess against them.
 */
final class Masking {

    private static final List<String> FIRST_NAMES = List.of("Alex", "Sam", "Robin", "Kim", "Jordan", "Taylor", "Morgan",
            "Casey", "Jamie", "Riley", "Avery", "Quinn", "Charlie", "Dana", "Emery", "Frankie", "Harper", "Jesse", "Lee", "Noel");
    private static final List<String> LAST_NAMES = List.of("Smith", "Garcia", "Mueller", "Rossi", "Novak", "Dubois", "Silva",
            "Kowalski", "Jensen", "Tanaka", "Okafor", "Nguyen", "Larsen", "Moreau", "Costa", "Becker", "Horvat", "Ali", "Berg", "Ruiz");

    /** A column as the copy's catalog describes it. */
    record ColumnInfo(String name, String type, String typeName, char category, boolean notNull, boolean generated) {
    }

    /** A table's columns and the SQL of its primary key's value ({@code ROW(a, b)}), empty when it has none. */
    record TableInfo(Map<String, ColumnInfo> columns, Optional<String> primaryKey) {
    }

    /**
     * The catalog query whose answer {@link #parseTable} reads: one line per column (name, type as SQL
     * writes it, type name, category, not null, generated), then the primary key's columns on a line
     * starting with {@code |pk|}. No lines when the table does not exist.
     */
    static String tableQuery(String schema, String table) {
        String rel = "to_regclass(" + ComputeSql.quote(identifier(schema) + "." + identifier(table)) + ")";
        return "(SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, t.typcategory, a.attnotnull, a.attgenerated <> ''"
                + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " WHERE a.attrelid = " + rel + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)"
                + " UNION ALL SELECT '|pk|', string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), '', '', false, false"
                + " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                + " WHERE i.indrelid = " + rel + " AND i.indisprimary";
    }

    /** Reads {@link #tableQuery}'s answer ({@code psql -A -t}); empty when the table does not exist. */
    static Optional<TableInfo> parseTable(String answer) {
        Map<String, ColumnInfo> columns = new LinkedHashMap<>();
        Optional<String> primaryKey = Optional.empty();
        for (String line : answer.lines().toList()) {
            List<String> f = List.of(line.split("\\|", -1));
            if (line.startsWith("|pk|")) {
                primaryKey = f.size() > 3 && !f.get(3).isEmpty() ? Optional.of("ROW(" + f.get(3) + ")") : Optional.empty();
            } else if (f.size() >= 6) {
                columns.put(f.get(0), new ColumnInfo(f.get(0), f.get(1), f.get(2), f.get(3).isEmpty() ? 'X' : f.get(3).charAt(0),
                        f.get(4).equals("t"), f.get(5).equals("t")));
            }
        }
        return columns.isEmpty() ? Optional.empty() : Optional.of(new TableInfo(columns, primaryKey));
    }

    /** What is wrong with a table's rules, each naming the column; empty when they can be applied. */
    static List<String> problems(String qualifiedTable, Optional<TableInfo> table, List<MaskRules.Column> rules) {
        if (table.isEmpty()) {
            return List.of("table " + qualifiedTable + " does not exist in database " + rules.getFirst().database());
        }
        List<String> problems = new ArrayList<>();
        for (MaskRules.Column rule : rules) {
            ColumnInfo c = table.get().columns().get(rule.column());
            if (c == null) {
                problems.add(rule.where() + ": no such column (" + qualifiedTable + " has "
                        + String.join(", ", table.get().columns().keySet()) + ")");
                continue;
            }
            if (c.generated()) {
                problems.add(rule.where() + ": is generated from other columns; mask those instead");
                continue;
            }
            String wrongType = switch (rule.rule()) {
                case Rule.Null n -> c.notNull() ? "is NOT NULL: give it another rule" : null;
                case Rule.Email e -> c.category() == 'S' ? null : "is " + c.type() + ", and email makes text";
                case Rule.Name n -> c.category() == 'S' ? null : "is " + c.type() + ", and name makes text";
                case Rule.Phone p -> c.category() == 'S' ? null : "is " + c.type() + ", and phone makes text";
                case Rule.KeepLast k -> c.category() == 'S' ? null : "is " + c.type() + ", and keep_last keeps characters of text";
                case Rule.ShiftDays d -> List.of("date", "timestamp", "timestamptz").contains(c.typeName()) ? null
                        : "is " + c.type() + ", and shift_days moves dates and timestamps";
                case Rule.Hash h -> c.category() == 'S' || List.of("int2", "int4", "int8", "uuid").contains(c.typeName()) ? null
                        : "is " + c.type() + ", and hash makes text, integers or uuids";
                case Rule.Value v -> null;
                case Rule.Sql s -> null;
            };
            if (wrongType != null) {
                problems.add(rule.where() + ": " + wrongType);
            }
        }
        return problems;
    }

    /** The UPDATE that masks a table's columns; triggers and foreign key checks off, as a restore has them. */
    static String update(String schema, String tableName, TableInfo table, List<MaskRules.Column> rules, String key) {
        String sets = rules.stream().map(r -> {
            ColumnInfo c = table.columns().get(r.column());
            return identifier(r.column()) + " = " + expression(r.rule(), c, table.primaryKey(), key);
        }).collect(Collectors.joining(", "));
        return "SET session_replication_role = replica; UPDATE " + identifier(schema) + "." + identifier(tableName) + " SET " + sets;
    }

    /** The masked value of column {@code c} by {@code rule}; {@code key} is the repository's secret. */
    static String expression(Rule rule, ColumnInfo c, Optional<String> primaryKey, String key) {
        String col = identifier(c.name());
        String type = c.type();
        return switch (rule) {
            case Rule.Null n -> "NULL";
            case Rule.Value v -> "CAST(" + ComputeSql.quote(v.value()) + " AS " + type + ")";
            case Rule.Sql s -> "CAST((" + s.expression() + ") AS " + type + ")";
            case Rule.Hash h -> switch (c.typeName()) {
                case "int2" -> "CAST(" + number(col, key, 1) + " % 32767 AS smallint)";
                case "int4" -> "CAST(" + number(col, key, 1) + " % 2147483647 AS integer)";
                case "int8" -> number(col, key, 1);
                case "uuid" -> "CAST(left(" + hash(col, key) + ", 32) AS uuid)";
                default -> "CAST(" + hash(col, key) + " AS " + type + ")";
            };
            case Rule.Email e -> unlessNull(col, "CAST('user-' || left(" + hash(col, key) + ", 12) || '@example.com' AS " + type + ")");
            case Rule.Name n -> unlessNull(col, "CAST(" + pick(FIRST_NAMES, number(col, key, 1)) + " || ' ' || "
                    + pick(LAST_NAMES, number(col, key, 16)) + " AS " + type + ")");
            case Rule.Phone p -> unlessNull(col, "CAST('+1-555-' || lpad((" + number(col, key, 1) + " % 10000000)::text, 7, '0') AS "
                    + type + ")");
            case Rule.KeepLast k -> unlessNull(col, "CAST(repeat('*', greatest(length(" + col + ") - " + k.count() + ", 0)) || right("
                    + col + ", " + k.count() + ") AS " + type + ")");
            case Rule.ShiftDays d -> {
                // random per row (by its primary key, else by the value), the same each time the branch is made
                String offset = "(" + number(primaryKey.orElse(col), key, 1) + " % " + (2L * d.days() + 1) + " - " + d.days() + ")";
                yield "CAST(" + col + (c.typeName().equals("date") ? " + CAST(" + offset + " AS integer)"
                        : " + " + offset + " * interval '1 day'") + " AS " + type + ")";
            }
        };
    }

    private static String hash(String sql, String key) {
        return "encode(sha256(convert_to(" + ComputeSql.quote(key) + " || (" + sql + ")::text, 'UTF8')), 'hex')";
    }

    /** A number from 0 to 2^60 - 1 out of the hash, from its {@code from}th hex digit on. */
    private static String number(String sql, String key, int from) {
        return "('x' || substr(" + hash(sql, key) + ", " + from + ", 15))::bit(60)::bigint";
    }

    private static String pick(List<String> names, String number) {
        return "(ARRAY[" + names.stream().map(ComputeSql::quote).collect(Collectors.joining(", ")) + "])[1 + " + number + " % "
                + names.size() + "]";
    }

    private static String unlessNull(String col, String masked) {
        return "CASE WHEN " + col + " IS NULL THEN NULL ELSE " + masked + " END";
    }

    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
