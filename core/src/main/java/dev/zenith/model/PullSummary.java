package dev.zenith.model;

/**
 * What {@code zenith pull} did for one branch: {@code FETCHED} (new here), {@code FAST_FORWARDED},
 * {@code UP_TO_DATE}, or {@code AHEAD} (nothing to take; this side has commits to push).
 */
public record PullSummary(String branch, String outcome, long manifest, long bytesFetched, long millis) {
}
