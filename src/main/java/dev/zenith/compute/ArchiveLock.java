package dev.zenith.compute;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Recoveries read the timelines' images and WAL while garbage collection removes from them: starts
 * share this lock, a collection takes it alone.
 */
final class ArchiveLock {

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    <T> T whileRecovering(Supplier<T> recovery) {
        lock.readLock().lock();
        try {
            return recovery.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    <T> T whileCollecting(Supplier<T> collection) {
        lock.writeLock().lock();
        try {
            return collection.get();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
