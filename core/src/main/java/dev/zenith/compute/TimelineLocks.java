package dev.zenith.compute;

import dev.zenith.Locks;
import dev.zenith.TimelineId;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
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

    void withLock(TimelineId timeline, Runnable work) {
        withLock(timeline, () -> {
            work.run();
            return null;
        });
    }
}
