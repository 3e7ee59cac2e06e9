package dev.zenith.model;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** Where a compute node is in its life, as {@code zenith pg list} and the console show it. */
public enum ComputeState {
    /** A branch with no compute at all (in a branch listing). */
    NONE,
    /** Registered, with no data directory yet. */
    NEW,
    /** Being made or started: not handed to clients yet. */
    STARTING,
    RUNNING,
    /** Stopped because nobody used it; the next connection resumes it. */
    SUSPENDED,
    STOPPED,
    /** Removed with its data directory (the answer to {@code pg stop --destroy}). */
    DESTROYED;

    @JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
