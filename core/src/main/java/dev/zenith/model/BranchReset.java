package dev.zenith.model;

import dev.zenith.BranchName;
import dev.zenith.Lsn;

/**
 * The outcome of a reset: the branch's new point on its parent (null: a tag's point of a deleted branch's history),
 * and the branch now holding its old state (null: none kept).
 */
public record BranchReset(BranchName name, BranchName parent, Lsn lsn, BranchName backup) {
}
