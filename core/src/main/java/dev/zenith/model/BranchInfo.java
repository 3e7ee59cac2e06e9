package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;

import java.time.Instant;

/**
 * A branch as {@code zenith branch} and the console show it: {@code expiresAt} is when the daemon deletes
 * it (null: never), {@code protected} whether delete and reset are refused, {@code pgVersion} the
 * PostgreSQL major version it runs (its root's: an imported root may run another than main),
 * {@code importedFrom} the source of a root made by {@code zenith import} (null otherwise), {@code following}
 * how a root that keeps receiving its source's WAL stands (null for the others).
 */
public record BranchInfo(BranchName name, TimelineId timelineId, BranchName parent, Lsn ancestorLsn,
                         Lsn lastLsn, Instant createdAt, String compute, ComputeState computeState,
                         long storageBytes, long dataDirBytes, String connectionString, Instant expiresAt,
                         @JsonProperty("protected") boolean isProtected, int pgVersion, String importedFrom,
                         FollowState following) {
}
