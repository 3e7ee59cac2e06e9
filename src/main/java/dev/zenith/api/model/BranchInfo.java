package dev.zenith.api.model;

import dev.zenith.BranchName;

/** A branch as {@code zenith branch} and the console show it. */
public record BranchInfo(BranchName name, String timelineId, BranchName parent, String ancestorLsn,
                         String lastLsn, String createdAt, String compute, String computeState,
                         long storageBytes, long dataDirBytes, String connectionString) {
}
