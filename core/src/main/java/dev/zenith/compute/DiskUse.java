package dev.zenith.compute;

/** How fresh the disk use a branch listing shows must be. */
public enum DiskUse {
    /** Measured for this answer (the CLI's {@code zenith branch}). */
    NOW,
    /** Measured at most a few seconds ago: the console samples several times a second. */
    RECENT
}
