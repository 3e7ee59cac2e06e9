package dev.zenith.storage;

import dev.zenith.Lsn;
import dev.zenith.TagName;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;

import java.time.Instant;

/**
 * A name for a point of a timeline's history. Garbage collection and retention keep what rebuilding
 * that point needs for as long as the tag exists.
 *
 * @param requested the point as the user named it ({@code -2h}, an LSN), or null for the branch's end then
 */
public record Tag(TagName name, TimelineId timeline, Lsn lsn, int tli, Instant createdAt, String requested) {

    public WalPoint point() {
        return new WalPoint(lsn, tli);
    }
}
