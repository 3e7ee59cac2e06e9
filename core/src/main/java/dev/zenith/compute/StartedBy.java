package dev.zenith.compute;

/** Who started a compute, which decides the idle timeout it gets when it has none of its own. */
enum StartedBy {
    /** A client connecting through the proxy: the repository's idle timeout applies. */
    CONNECTION,
    /** {@code zenith pg start}: runs until stopped. */
    HAND
}
