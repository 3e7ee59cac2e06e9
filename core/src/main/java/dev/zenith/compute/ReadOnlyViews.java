package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.PointInTime;
import dev.zenith.WalPoint;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

/**
 * Read-only views of a branch's past ({@code branch=main@0/16B5A50}, {@code pg start main --at -10m}):
 * one hot standby per point, paused there, shared by every client asking for the same point, removed
 * after {@code readOnlyIdleTimeout} without clients.
 */
final class ReadOnlyViews {

    private final Repository repository;
    private final NodeRegistry registry;
    private final TimelineLocks locks;
    private final BranchPoints points;

    ReadOnlyViews(Repository repository, NodeRegistry registry, TimelineLocks locks, BranchPoints points) {
        this.repository = repository;
        this.registry = registry;
        this.locks = locks;
        this.points = points;
    }

    /** The node showing {@code branch} at {@code at}: the one already there, or a new one. */
    ComputeNode node(BranchName branch, PointInTime at) {
        Timeline timeline = repository.requireBranch(branch);
        WalPoint point = locks.withLock(timeline.id(), () -> points.resolve(timeline, branch, branch + "@" + at, at));
        return registry.registerReadOnly(timeline.id(), point, repository.config().readOnlyIdleTimeout().toString());
    }
}
