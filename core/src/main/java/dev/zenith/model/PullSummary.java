package dev.zenith.model;

/** What {@code zenith pull} did for one branch. */
public record PullSummary(String branch, PullOutcome outcome, long manifest, long bytesFetched, long millis) {
}
