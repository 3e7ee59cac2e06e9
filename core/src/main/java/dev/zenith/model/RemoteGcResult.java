package dev.zenith.model;

/** What {@code zenith gc --remote} removed from a remote and what it kept. */
public record RemoteGcResult(String remote, int manifestsRemoved, int objectsRemoved, long bytesRemoved, int objectsKept,
                             long bytesKept) {
}
