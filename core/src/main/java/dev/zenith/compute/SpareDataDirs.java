package dev.zenith.compute;

import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;

/**
 * Copies of images made ahead of need, so that a branch's first start does not wait for one. Once a
 * data directory has been made from an image, another copy of that image is made in the background for
 * the next branch made at the same point, which is what a test suite does with a branch per test (see
 * Neon's pool of computes started ahead). Kept only where copies are clones: a spare then costs inodes,
 * not the image's size again. A spare unused for {@link #IDLE} is removed, so is one whose image is gone.
 *
 * <p>Locks: this object's monitor guards {@code spares}; copies are made on this object's own thread,
 * outside the monitor.
 */
final class SpareDataDirs implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SpareDataDirs.class);
    static final Duration IDLE = Duration.ofMinutes(10);

    /** A spare of one image: being copied, or ready since a moment. */
    private sealed interface Spare {
        record Copying() implements Spare {
        }

        record Ready(Path dir, Instant since) implements Spare {
        }
    }

    private final int capacity;
    private final Path dir;
    private final BiFunction<Image, String, Path> copy;
    private final ExecutorService copier = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("spare-data-dirs").factory());
    /** By the image's directory, the least recently used first. */
    private final Map<Path, Spare> spares = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * Keeps up to {@code capacity} spares (none at 0) in {@code dir}, each made by {@code copy}: a copy of
     * the image in {@code dir} under the name given, ready to recover, which this object then owns. A
     * spare's name says which image it copies: {@code spare-IMAGE-ID}, once it is ready.
     */
    SpareDataDirs(int capacity, Path dir, BiFunction<Image, String, Path> copy) {
        this.capacity = capacity;
        this.dir = dir;
        this.copy = copy;
    }

    /** The spare copy of {@code image}, now the caller's to move into place; empty when none is ready. */
    synchronized Optional<Path> take(Image image) {
        if (spares.get(image.dataDir()) instanceof Spare.Ready ready) {
            spares.remove(image.dataDir());
            return Optional.of(ready.dir());
        }
        return Optional.empty();
    }

    /**
     * Has a spare of {@code image} made in the background unless one is there or on its way. The spares
     * that make room are deleted after the monitor is let go: a starting compute's {@link #take} never
     * waits for a thousand files to go.
     */
    void replenish(Image image) {
        List<Path> evicted = new ArrayList<>();
        synchronized (this) {
            if (capacity == 0 || spares.containsKey(image.dataDir())) {
                return;
            }
            while (spares.size() >= capacity && removeOldestReady().map(evicted::add).isPresent()) {
                // made room
            }
            if (spares.size() < capacity) { // else every one is still being copied
                spares.put(image.dataDir(), new Spare.Copying());
                try {
                    copier.execute(() -> make(image));
                } catch (RejectedExecutionException closed) {
                    spares.remove(image.dataDir());
                }
            }
        }
        evicted.forEach(FileTrees::deleteTree);
    }

    /** Removes spares unused for {@link #IDLE}, and those of images no longer in the repository. */
    void prune(Instant now) {
        List<Path> stale = new ArrayList<>();
        synchronized (this) {
            spares.entrySet().removeIf(e -> {
                if (e.getValue() instanceof Spare.Ready ready
                        && (ready.since().plus(IDLE).isBefore(now) || !Files.isDirectory(e.getKey()))) {
                    stale.add(ready.dir());
                    return true;
                }
                return false;
            });
        }
        stale.forEach(FileTrees::deleteTree);
    }

    private void make(Image image) {
        String id = UUID.randomUUID().toString();
        String name = "spare-copying-" + id;
        Path copied;
        try {
            copied = copy.apply(image, name);
        } catch (RuntimeException e) {
            log.warn("could not make a spare copy of image {}: {}", image.dataDir(), e.getMessage());
            FileTrees.deleteTree(dir.resolve(name));
            synchronized (this) {
                spares.remove(image.dataDir());
            }
            return;
        }
        synchronized (this) {
            if (spares.get(image.dataDir()) instanceof Spare.Copying) {
                Path ready = dir.resolve("spare-" + image.dataDir().getFileName() + "-" + id);
                try {
                    Files.move(copied, ready, StandardCopyOption.ATOMIC_MOVE);
                    spares.put(image.dataDir(), new Spare.Ready(ready, Instant.now()));
                    return;
                } catch (IOException e) {
                    log.warn("could not keep a spare copy of image {}: {}", image.dataDir(), e.getMessage());
                    spares.remove(image.dataDir());
                }
            }
        }
        FileTrees.deleteTree(copied); // closed meanwhile, or not kept
    }

    /** Forgets the least recently made ready spare; the caller deletes its directory, outside the monitor. */
    private Optional<Path> removeOldestReady() {
        for (var it = spares.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue() instanceof Spare.Ready ready) {
                it.remove();
                return Optional.of(ready.dir());
            }
        }
        return Optional.empty();
    }

    /** Stops making spares; those made are left in tmp/, which the next daemon clears. */
    @Override
    public void close() {
        copier.shutdownNow();
        synchronized (this) {
            spares.clear();
        }
    }
}
