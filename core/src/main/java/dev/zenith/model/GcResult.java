package dev.zenith.model;

/** What one garbage collection removed. */
public record GcResult(int segments, int images, int timelines, long freedBytes) {
}
