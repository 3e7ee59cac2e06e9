package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.zenith.BranchName;

/**
 * A branch as {@code zenith branch} and the console show it: {@code expiresAt} is when the daemon deletes
 * it (null: never), {@code protected} whether delete and reset are refused.
 */
public record BranchInfo(BranchName name, String timelineId, BranchName parent, String ancestorLsn,
                         String lastLsn, String createdAt, String compute, String computeState,
                         long storageBytes, long dataDirBytes, String connectionString, String expiresAt,
                         @JsonProperty("protected") boolean isProtected) {
}
