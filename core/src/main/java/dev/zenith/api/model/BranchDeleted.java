package dev.zenith.api.model;

import dev.zenith.BranchName;

/** What deleting a branch freed. */
public record BranchDeleted(BranchName name, long freedBytes) {
}
