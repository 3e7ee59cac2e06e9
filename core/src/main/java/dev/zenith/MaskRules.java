package dev.zenith;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Masking rules, per database, table and column, as the user writes them in YAML:
 * <pre>
 * shop:                      # a database
 *   public.customers:        # a table (schema.table; public when no schema)
 *     email: email           # a keyword rule
 *     ssn: {keep_last: 4}    # a rule with its value
 *     notes: null
 * </pre>
 * Parsed the same way by the CLI (so a malformed file is refused before anything is asked) and the
 * daemon, which receives the text. Whether the tables and columns exist is the daemon's to check.
 */
public record MaskRules(String text, List<Column> columns) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** One rule: what a column of a table of a database becomes. */
    public record Column(String database, String schema, String table, String column, Rule rule) {

        /** {@code shop.public.customers.email}: how errors name it. */
        public String where() {
            return database + "." + schema + "." + table + "." + column;
        }
    }

    /** What a value becomes. */
    public sealed interface Rule {
        /** NULL. */
        record Null() implements Rule { }

        /** The same fixed value in every row. */
        record Value(String value) implements Rule { }

        /** A keyed hash: the same input gives the same output in every table, so joins and unique keys hold. */
        record Hash() implements Rule { }

        /** An address at example.com, the same for the same input. */
        record Email() implements Rule { }

        /** A made-up first and last name, the same for the same input. */
        record Name() implements Rule { }

        /** A made-up phone number in the 555 range, the same for the same input. */
        record Phone() implements Rule { }

        /** Every character but the last {@code count} replaced by '*'. */
        record KeepLast(int count) implements Rule { }

        /** Moved by up to {@code days} days either way, by an offset random per row and the same each time. */
        record ShiftDays(int days) implements Rule { }

        /** An SQL expression over the row's columns (their values before masking). */
        record Sql(String expression) implements Rule { }
    }

    /** Parses the rules, refusing with what is wrong and where ({@link IllegalArgumentException}). */
    public static MaskRules parse(String text) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the masking rules are not valid YAML: "
                    + e.getOriginalMessage().lines().map(String::strip).filter(l -> !l.isEmpty() && !l.equals("^"))
                    .collect(java.util.stream.Collectors.joining(" ")));
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new IllegalArgumentException("the masking rules name no database: write database: table: column: rule"
                    + " (see zenith branch --help)");
        }
        List<Column> columns = new ArrayList<>();
        for (Map.Entry<String, JsonNode> database : entries(root)) {
            if (!database.getValue().isObject()) {
                throw new IllegalArgumentException("database " + database.getKey() + " in the masking rules names no tables");
            }
            for (Map.Entry<String, JsonNode> table : entries(database.getValue())) {
                int dot = table.getKey().indexOf('.');
                String schema = dot < 0 ? "public" : table.getKey().substring(0, dot);
                String name = dot < 0 ? table.getKey() : table.getKey().substring(dot + 1);
                if (!table.getValue().isObject() || table.getValue().isEmpty()) {
                    throw new IllegalArgumentException("table " + table.getKey() + " in the masking rules names no columns");
                }
                for (Map.Entry<String, JsonNode> column : entries(table.getValue())) {
                    String where = database.getKey() + "." + schema + "." + name + "." + column.getKey();
                    columns.add(new Column(database.getKey(), schema, name, column.getKey(), rule(where, column.getValue())));
                }
            }
        }
        return new MaskRules(text, List.copyOf(columns));
    }

    /** The databases the rules name, in their order. */
    public List<String> databases() {
        return columns.stream().map(Column::database).distinct().toList();
    }

    /** The rules of {@code database}, by table ({@code schema.table}), in their order. */
    public Map<String, List<Column>> tablesOf(String database) {
        Map<String, List<Column>> tables = new LinkedHashMap<>();
        columns.stream().filter(c -> c.database().equals(database))
                .forEach(c -> tables.computeIfAbsent(c.schema() + "." + c.table(), t -> new ArrayList<>()).add(c));
        return tables;
    }

    private static Rule rule(String where, JsonNode node) {
        if (node == null || node.isNull()) {
            return new Rule.Null();
        }
        if (node.isTextual()) {
            return switch (node.asText()) {
                case "null" -> new Rule.Null();
                case "hash" -> new Rule.Hash();
                case "email" -> new Rule.Email();
                case "name" -> new Rule.Name();
                case "phone" -> new Rule.Phone();
                default -> throw unknown(where, "\"" + node.asText() + "\"");
            };
        }
        if (node.isObject() && node.size() == 1) {
            Map.Entry<String, JsonNode> only = node.fields().next();
            JsonNode v = only.getValue();
            return switch (only.getKey()) {
                case "value" -> {
                    if (!v.isValueNode() || v.isNull()) {
                        throw new IllegalArgumentException(where + ": value takes one value (value: XX)");
                    }
                    yield new Rule.Value(v.asText());
                }
                case "keep_last" -> new Rule.KeepLast(positive(where, "keep_last", v));
                case "shift_days" -> new Rule.ShiftDays(positive(where, "shift_days", v));
                case "sql" -> {
                    if (!v.isTextual() || v.asText().isBlank()) {
                        throw new IllegalArgumentException(where + ": sql takes an expression (sql: \"left(notes, 3)\")");
                    }
                    yield new Rule.Sql(v.asText());
                }
                default -> throw unknown(where, only.getKey());
            };
        }
        throw unknown(where, node.toString());
    }

    private static int positive(String where, String rule, JsonNode v) {
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
            throw new IllegalArgumentException(where + ": " + rule + " takes a whole number of at least 1, not " + v);
        }
        return v.asInt();
    }

    private static IllegalArgumentException unknown(String where, String what) {
        return new IllegalArgumentException(where + ": unknown rule " + what + "; the rules are null, hash, email, name, phone,"
                + " {value: X}, {keep_last: N}, {shift_days: N} and {sql: EXPRESSION}");
    }

    private static List<Map.Entry<String, JsonNode>> entries(JsonNode object) {
        List<Map.Entry<String, JsonNode>> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            list.add(it.next());
        }
        return list;
    }
}
