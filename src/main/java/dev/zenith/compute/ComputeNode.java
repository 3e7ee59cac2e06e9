package dev.zenith.compute;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;

import java.time.Instant;

/**
 * A compute node as {@code computes/NAME.json} records it: a Postgres for one timeline on a fixed port.
 * A timeline has at most one node, so at most one read-write Postgres ever writes its WAL.
 *
 * @param wantRunning whether the node should be running; a restarted daemon starts such nodes it finds down
 * @param idleTimeout the node's own idle timeout ({@link IdleTimeout} text), or null for the default
 * @param onDemand    started by a connection through the proxy, so the repository's idle timeout applies;
 *                    a node started by hand runs until stopped unless it has its own idle timeout
 * @param suspended   stopped because it was idle; the next connection resumes it
 * @param readOnlyAt  for a read-only view of the past: the LSN it shows (a hot standby paused there,
 *                    never promoted, removed when idle); null for the branch's read-write node
 * @param readOnlyTli the Postgres timeline id at {@code readOnlyAt}
 */
public record ComputeNode(String name, TimelineId timeline, int port, Instant createdAt, boolean wantRunning,
                          String idleTimeout, boolean onDemand, boolean suspended, Lsn readOnlyAt, int readOnlyTli) {

    public ComputeNode withWantRunning(boolean want) {
        return new ComputeNode(name, timeline, port, createdAt, want, idleTimeout, onDemand, suspended && !want,
                readOnlyAt, readOnlyTli);
    }

    public ComputeNode started(boolean byProxy, String timeout) {
        return new ComputeNode(name, timeline, port, createdAt, true, timeout != null ? timeout : idleTimeout,
                byProxy, false, readOnlyAt, readOnlyTli);
    }

    /** The same node serving another timeline of its branch (after a reset); its data directory is gone. */
    public ComputeNode rebound(TimelineId newTimeline) {
        return new ComputeNode(name, newTimeline, port, createdAt, false, idleTimeout, onDemand, false, null, 0);
    }

    public ComputeNode asSuspended() {
        return new ComputeNode(name, timeline, port, createdAt, false, idleTimeout, onDemand, true, readOnlyAt, readOnlyTli);
    }

    @JsonIgnore
    public boolean isReadOnly() {
        return readOnlyAt != null;
    }

    /** The idle timeout in force: the node's own, else the repository's for on-demand nodes, else never. */
    public IdleTimeout effectiveIdleTimeout(IdleTimeout repositoryDefault) {
        if (idleTimeout != null) {
            return IdleTimeout.parse(idleTimeout);
        }
        return onDemand ? repositoryDefault : IdleTimeout.NEVER;
    }
}
