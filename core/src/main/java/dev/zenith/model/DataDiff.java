package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * What {@code zenith diff --data} found between two branches or points: per table, how many rows were
 * added, removed and changed, and the first of them with their values.
 */
public record DataDiff(String from, String to, boolean equal, List<Table> tables) {

    /**
     * One table. {@code matchedBy}: {@code primary key}, {@code whole row} (no primary key: rows are added
     * or removed, never changed), {@code only in FROM} or {@code only in TO} (all its rows count as removed
     * or added). {@code unchanged}: why it was not read, when the WAL shows neither side changed it since
     * their common history. {@code columnsOnlyFrom}/{@code columnsOnlyTo}: columns compared on one side only
     * (the rest are compared). {@code truncated}: more rows differ than {@code rows} lists.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Table(String table, String matchedBy, List<String> key, long added, long removed, long changed, String unchanged,
                        List<String> columnsOnlyFrom, List<String> columnsOnlyTo, List<Row> rows, boolean truncated) {

        public boolean equal() {
            return added == 0 && removed == 0 && changed == 0;
        }
    }

    /**
     * A row that differs: {@code change} is {@code added}, {@code removed} or {@code changed}; {@code key} its
     * key columns, {@code row} all its columns (the side that has it), {@code columns} for a changed row the
     * columns that differ, before and after.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Row(String change, Map<String, JsonNode> key, Map<String, JsonNode> row, Map<String, Values> columns) {
    }

    public record Values(JsonNode from, JsonNode to) {
    }
}
