package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One line of {@code zenith bisect}: the search set out ({@code start}), a point probed ({@code probe}),
 * and the answer: the first transaction after which the result changed ({@code found}), or none
 * ({@code unchanged}).
 *
 * @param lsn the point probed, or for {@code start} the good point
 * @param result the query's result there, as text
 * @param step which probe this is, from 1
 * @param candidates transactions still in question (for {@code start}: all between the good and the bad point)
 * @param transaction the transaction found, as {@code zenith log} shows it
 * @param before the point just before it
 * @param command how to branch there
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BisectStep(String kind, String lsn, String bad, String result, Integer step, Integer candidates,
                         LogEntry transaction, String before, String command) {

    public static final String START = "start";
    public static final String PROBE = "probe";
    public static final String FOUND = "found";
    public static final String UNCHANGED = "unchanged";
}
