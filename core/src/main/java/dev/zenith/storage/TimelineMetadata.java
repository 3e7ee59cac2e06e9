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
 * @param expiresAt   when the daemon deletes this branch, or null for never
 * @param protectedSince since when delete and reset of this branch are refused, or null when they are not
 * @param importedFrom   for a root made by {@code zenith import}: the source (password left out) and how it
 *                       was copied; null for main's root and every branch
 * @param superuser      for a root whose data has not the repository's superuser (a followed import: a copy
 *                       of the source's, untouched), the superuser zenith logs in as there and in every branch
 *                       of it; null: the repository's
 */
public record TimelineMetadata(TimelineId id, TimelineId ancestor, Lsn ancestorLsn, int ancestorTli,
                               Instant createdAt, Lsn lastLsn, int lastTli, String retention, Instant expiresAt,
                               Instant protectedSince, String importedFrom, String superuser) {

    /** A new timeline branched from {@code ancestor} at {@code point}: its WAL ends there until its first start. */
    public static TimelineMetadata branch(TimelineId id, TimelineId ancestor, WalPoint point, String retention, Instant expiresAt) {
        return new TimelineMetadata(id, ancestor, point.lsn(), point.tli(), Instant.now(), point.lsn(), point.tli(), retention,
                expiresAt, null, null, null);
    }

    /** Where this timeline's WAL ends when no compute runs on it. */
    public WalPoint last() {
        return new WalPoint(lastLsn, lastTli);
    }

    /**
     * What a remote keeps of this timeline: its history, ending at {@code liveEnd} when a running compute's
     * WAL went further; expiry and protection are this repository's own and stay here.
     */
    public TimelineMetadata asPushed(java.util.Optional<WalPoint> liveEnd) {
        WalPoint end = liveEnd.orElse(last());
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, end.lsn(), end.tli(), retention, null, null,
                importedFrom, superuser);
    }

    TimelineMetadata withLast(WalPoint end) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, end.lsn(), end.tli(), retention, expiresAt,
                protectedSince, importedFrom, superuser);
    }

    TimelineMetadata withRetention(String window) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, lastLsn, lastTli, window, expiresAt,
                protectedSince, importedFrom, superuser);
    }

    TimelineMetadata withExpiry(Instant at) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, lastLsn, lastTli, retention, at,
                protectedSince, importedFrom, superuser);
    }

    TimelineMetadata withProtection(Instant since) {
        return new TimelineMetadata(id, ancestor, ancestorLsn, ancestorTli, createdAt, lastLsn, lastTli, retention, expiresAt,
                since, importedFrom, superuser);
    }
}
