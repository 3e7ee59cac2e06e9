package dev.zenith.model;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;

/** A new branch and the LSN of its parent it was made at. */
public record BranchCreated(BranchName name, TimelineId timeline, BranchName parent, Lsn lsn) {
}
