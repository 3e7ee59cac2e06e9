package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Failpoints;
import dev.zenith.Locks;
import dev.zenith.TimelineId;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One lock per timeline: a start, a stop, a branch point and a reset of the same timeline never
 * interleave, which with one read-write node per timeline keeps one writer per branch. Lock order: a
 * branch's lock before its parent's, and any timeline's before the node registry's.
 */
final class TimelineLocks {

    private final Map<TimelineId, ReentrantLock> locks = new ConcurrentHashMap<>();

    <T> T withLock(TimelineId timeline, Supplier<T> work) {
        ReentrantLock lock = locks.computeIfAbsent(timeline, t -> Locks.newLock("timeline " + t));
        lock.lock();
        try {
            return work.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code work} on the timeline branch {@code name} points at, under that timeline's lock. The name
     * is read before the lock is taken, so it is read again once the lock is held: a delete, reset or
     * rename that went first has moved it, and working on anyway would hang a new branch or tag on a
     * timeline that is gone or no longer the branch's. {@code what} says what was being done to the
     * branch ("deleted", "branched"), for the refusal and for the failpoint between the look and the lock.
     */
    <T> T withBranch(Repository repository, BranchName name, String what, Function<Timeline, T> work) {
        Timeline timeline = repository.requireBranch(name);
        Failpoints.reach("locking " + name + " to be " + what);
        return withLock(timeline.id(), () -> {
            if (!repository.branches().get(name).equals(Optional.of(timeline.id()))) {
                throw ZenithException.conflict("branch \"" + name + "\" was renamed, reset or deleted while it was being " + what,
                        "zenith branch shows the branches now; try again if it still applies");
            }
            return work.apply(timeline);
        });
    }

    void withLock(TimelineId timeline, Runnable work) {
        withLock(timeline, () -> {
            work.run();
            return null;
        });
    }
}
