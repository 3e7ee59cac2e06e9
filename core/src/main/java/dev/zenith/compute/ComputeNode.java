package dev.zenith.compute;

import dev.zenith.IdleTimeout;
import dev.zenith.TimelineId;

/**
 * A compute node: a Postgres for one timeline on a fixed port. A timeline has at most one read-write
 * node, so at most one Postgres ever writes its WAL. {@link NodeRegistry} keeps it in {@code computes/NAME.json}.
 *
 * @param wantRunning whether the node should be running; a restarted daemon starts such nodes it finds down
 * @param idleTimeout the node's own idle timeout ({@link IdleTimeout} text), or null for the default
 * @param startedBy   who started it last, which picks the default idle timeout
 * @param suspended   stopped because it was idle; the next connection resumes it
 */
record ComputeNode(String name, TimelineId timeline, int port, boolean wantRunning, String idleTimeout,
                          StartedBy startedBy, boolean suspended, ComputeMode mode) {

    ComputeNode withWantRunning(boolean want) {
        return new ComputeNode(name, timeline, port, want, idleTimeout, startedBy, suspended && !want, mode);
    }

    ComputeNode started(StartedBy by, String timeout) {
        return new ComputeNode(name, timeline, port, true, timeout != null ? timeout : idleTimeout, by, false, mode);
    }

    /** The same node serving another timeline of its branch (after a reset); its data directory is gone. */
    ComputeNode rebound(TimelineId newTimeline) {
        return new ComputeNode(name, newTimeline, port, false, idleTimeout, startedBy, false, ComputeMode.READ_WRITE);
    }

    ComputeNode asSuspended() {
        return new ComputeNode(name, timeline, port, false, idleTimeout, startedBy, true, mode);
    }

    boolean isReadOnly() {
        return mode.isReadOnly();
    }

    /** The idle timeout in force: the node's own, else the repository's when a connection started it, else never. */
    IdleTimeout effectiveIdleTimeout(IdleTimeout repositoryDefault) {
        if (idleTimeout != null) {
            return IdleTimeout.parse(idleTimeout);
        }
        return startedBy == StartedBy.CONNECTION ? repositoryDefault : IdleTimeout.NEVER;
    }
}
