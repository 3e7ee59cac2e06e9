package dev.zenith.compute;

import dev.zenith.Locks;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Garbage collection decides from a listing of images and WAL what to remove, then removes it:
 * recoveries (which read them) and new images (which add to them) share this lock, a collection
 * takes it alone, so none of them happens between its listing and its removals. Lock order: a
 * timeline's lock before this one.
 */
final class ArchiveLock {

    private final ReentrantReadWriteLock lock = Locks.newReadWriteLock("archive");

    <T> T whileUsing(Supplier<T> work) {
        lock.readLock().lock();
        try {
            return work.get();
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
