package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * One line of {@code zenith log}: a transaction of a branch's history, or the point where one branch of
 * the history begins from another ({@code kind} {@code transaction} or {@code branch-point}).
 *
 * @param branch the branch whose history holds it (for a branch point: the one that begins there)
 * @param lsn for a transaction the point just after it, as {@code --at} takes it; for a branch point, that point
 * @param before the point just before the transaction (where its commit record starts)
 * @param time when it committed, ISO 8601
 * @param refs tags and branches made at this state: {@code tag: v1}, {@code branch: feature}
 * @param parent for a branch point, the branch it begins from (null when that has no name any more)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LogEntry(String kind, String branch, String lsn, String before, Long xid, String time, List<TableChange> tables,
                       List<String> refs, String parent) {

    public static final String TRANSACTION = "transaction";
    public static final String BRANCH_POINT = "branch-point";

    /** What a transaction did to one table: rows, and DDL ({@code created}, {@code altered}, ...; null for none). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TableChange(String table, long inserted, long updated, long deleted, String ddl) {
    }
}
