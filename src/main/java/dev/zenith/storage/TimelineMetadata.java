package dev.zenith.storage;

import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;

import java.time.Instant;

/**
 * What {@code timeline.json} says of a timeline.
 *
 * @param ancestor    the timeline it was branched from; null for the root
 * @param ancestorLsn the branch point on the ancestor; the branch shows the ancestor's state there
 * @param ancestorTli the Postgres timeline id of the ancestor's WAL at the branch point
 * @param lastLsn     the end of this timeline's WAL when no compute runs on it: the branch point until
 *                    its first start, then the shutdown checkpoint of its last clean stop
 * @param lastTli     the Postgres timeline id at {@code lastLsn}
 * @param retention   this branch's retention window ({@code 2h}, {@code never}), or null for the repository's
 */
public record TimelineMetadata(TimelineId id, TimelineId ancestor, Lsn ancestorLsn, int ancestorTli,
                               Instant createdAt, Lsn lastLsn, int lastTli, String retention) {

    /** A new timeline branched from {@code ancestor} at {@code point}: its WAL ends there until its first start. */
    public static TimelineMetadata branch(TimelineId id, TimelineId ancestor, WalPoint point, String retention) {
        return new TimelineMetadata(id, ancestor, point.lsn(), point.tli(), Instant.now(), point.lsn(), point.tli(), retention);
    }

    /** Where this timeline's WAL ends when no compute runs on it. */
    public WalPoint last() {
        return new WalPoint(lastLsn, lastTli);
    }

    TimelineMetadata withLast(WalPoint end) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, end.lsn(), end.tli(), retention);
    }

    TimelineMetadata withRetention(String window) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, lastLsn, lastTli, window);
    }
}
