package dev.zenith.model;

/**
 * A long operation under way (a compute start, an image, GC): {@code done} of {@code total} bytes, where
 * {@code total} 0 means the size is not known (a spinner, not a bar).
 */
public record OperationInfo(long id, String kind, String compute, String branch, String phase, long done, long total,
                            long elapsedMillis) {
}
