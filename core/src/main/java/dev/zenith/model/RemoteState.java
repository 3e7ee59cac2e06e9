package dev.zenith.model;

/** How a local branch stands against its remote's, judged from the manifest they last agreed on. */
public enum RemoteState {
    /** Neither side went on since they last agreed. */
    IN_SYNC,
    /** Only this side committed since: {@code zenith push} sends it. */
    AHEAD,
    /** Only the remote went on: {@code zenith pull} brings it. */
    BEHIND,
    /** Both went on, or the remote's branch of that name is another branch: neither push nor pull. */
    DIVERGED,
    /** The remote has no branch of that name. */
    NOT_PUSHED
}
