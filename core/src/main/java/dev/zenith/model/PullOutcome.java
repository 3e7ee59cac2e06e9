package dev.zenith.model;

/** What a pull did for one branch. */
public enum PullOutcome {
    /** The branch was new here: fetched whole. */
    FETCHED,
    /** This side was behind: moved to the remote's manifest. */
    FAST_FORWARDED,
    UP_TO_DATE,
    /** Nothing to take: this side has commits to push. */
    AHEAD
}
