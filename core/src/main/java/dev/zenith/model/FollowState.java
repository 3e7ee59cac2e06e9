package dev.zenith.model;

import java.time.Instant;

/**
 * How a branch that follows its source ({@code zenith import --follow}) stands.
 *
 * @param source    the source, its password left out
 * @param slot      the source's replication slot that keeps WAL for it, or null
 * @param since     when following began
 * @param receiving whether WAL is being received now (false while reconnecting, or after a gap)
 * @param problem   why it is not receiving, with what to do; null when all is well
 * @param received  the end of the WAL received so far
 * @param lagBytes  how far the source's flushed WAL is ahead of it; -1 when the source does not answer
 * @param lagSeconds how long since it was last caught up with the source (0 when it is now); -1 when unknown
 */
public record FollowState(String source, String slot, Instant since, boolean receiving, String problem, String received,
                          long lagBytes, long lagSeconds) {
}
