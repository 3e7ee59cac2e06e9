package dev.zenith.compute;

/** How {@code zenith pg stop} (and the console) stop a compute. */
public enum StopMode {
    /** A clean stop; it stays stopped until started again. */
    STOP,
    /** A clean stop marked as the idle check marks it: the next connection resumes it. */
    SUSPEND,
    /** A clean stop, then the node and its data directory are removed (the branch keeps its data). */
    DESTROY
}
