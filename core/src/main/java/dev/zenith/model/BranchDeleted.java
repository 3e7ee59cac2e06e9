package dev.zenith.model;

import dev.zenith.BranchName;

/** What deleting a branch freed. */
public record BranchDeleted(BranchName name, long freedBytes) {
}
