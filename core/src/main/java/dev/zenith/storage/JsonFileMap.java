package dev.zenith.storage;

import dev.zenith.AtomicFiles;
import dev.zenith.Locks;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A small map kept whole in one JSON file ({@code branches.json}, {@code tags.json}). Readers see an
 * immutable snapshot, sorted; {@code lock} serializes changes, each made to a copy and written
 * atomically before anyone sees it.
 */
final class JsonFileMap<K, V> {

    private final Path file;
    private final Comparator<K> order;
    private final Function<Map<K, V>, Object> onDisk;
    private final ReentrantLock lock;
    private volatile Map<K, V> snapshot;

    /** {@code initial} is what the file holds now; {@code onDisk} makes what it is to hold from a map. */
    JsonFileMap(Path file, Comparator<K> order, Map<K, V> initial, Function<Map<K, V>, Object> onDisk) {
        this.file = file;
        this.order = order;
        this.onDisk = onDisk;
        this.lock = Locks.newLock(file.getFileName().toString());
        this.snapshot = sorted(initial);
    }

    Map<K, V> snapshot() {
        return snapshot;
    }

    /** Applies {@code change} to a copy, and writes and publishes it when the change says so; returns that. */
    boolean update(Predicate<Map<K, V>> change) {
        lock.lock();
        try {
            Map<K, V> updated = new TreeMap<>(order);
            updated.putAll(snapshot);
            if (!change.test(updated)) {
                return false;
            }
            AtomicFiles.writeJson(file, onDisk.apply(updated));
            snapshot = Collections.unmodifiableMap(updated);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private Map<K, V> sorted(Map<K, V> entries) {
        Map<K, V> result = new TreeMap<>(order);
        result.putAll(entries);
        return Collections.unmodifiableMap(result);
    }
}
