package dev.zenith.model;

/**
 * What {@code zenith push} did for one branch: the manifest it wrote (or found in sync, {@code upToDate}) and
 * what it sent against what the remote had.
 */
public record PushSummary(String branch, long manifest, int objectsSent, long bytesSent, int objectsKept, boolean upToDate,
                          long millis) {
}
