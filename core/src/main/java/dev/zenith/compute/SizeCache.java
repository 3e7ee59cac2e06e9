package dev.zenith.compute;

import dev.zenith.storage.FileTrees;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Directory sizes for the console's live view, each walked at most once per {@code maxAge}: the view is
 * sampled several times a second, and walking every data directory that often would cost more than
 * the databases do on a laptop. Disk use a few seconds old is fine to look at.
 */
final class SizeCache {

    private record Measured(long bytes, long atNanos) {
    }

    private final long maxAgeNanos;
    private final Map<Path, Measured> sizes = new ConcurrentHashMap<>();

    SizeCache(Duration maxAge) {
        this.maxAgeNanos = maxAge.toNanos();
    }

    long sizeOf(Path dir) {
        long now = System.nanoTime();
        Measured m = sizes.get(dir);
        if (m == null || now - m.atNanos() > maxAgeNanos) {
            m = new Measured(FileTrees.sizeOf(dir), now);
            if (sizes.size() > 10_000) {
                sizes.clear(); // directories of deleted branches are not worth tracking one by one
            }
            sizes.put(dir, m);
        }
        return m.bytes();
    }
}
