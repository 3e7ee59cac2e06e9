package dev.zenith.model;

/** What a new branch holds of its parent. */
public enum BranchData {
    /** The parent's history up to the point: a branch that copies nothing until its compute starts. */
    HISTORY,
    /**
     * The parent's schema, roles and extensions at the point, no rows, sequences at their start: a new
     * root, so nothing before it (the parent's rows) can be reached from it.
     */
    SCHEMA_ONLY,
    /** The parent's data at the point with columns masked by rules: a new root, as schema-only ones. */
    MASKED
}
