package dev.zenith.model;

import dev.zenith.BranchName;
import dev.zenith.TagName;

/**
 * A tag as {@code zenith tag} and the console show it: the branch whose history it names a point of
 * (null when that timeline has no branch name), the point, and how it was asked for ({@code -2h}, an LSN;
 * null for the branch's end then).
 */
public record TagInfo(TagName name, BranchName branch, String timelineId, String lsn, String createdAt, String requested) {
}
