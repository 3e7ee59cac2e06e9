package dev.zenith.compute;

import dev.zenith.TimelineId;

import java.time.Instant;

/**
 * A compute node as {@code computes/NAME.json} records it: a Postgres for one timeline on a fixed port.
 * A timeline has at most one node, so at most one read-write Postgres ever writes its WAL.
 *
 * @param wantRunning whether the node should be running; a restarted daemon starts such nodes it finds down
 */
public record ComputeNode(String name, TimelineId timeline, int port, Instant createdAt, boolean wantRunning) {

    public ComputeNode withWantRunning(boolean want) {
        return new ComputeNode(name, timeline, port, createdAt, want);
    }
}
