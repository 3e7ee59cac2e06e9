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
 * Neon's pool of computes started ahead). Where copies are clones a spare costs inodes; where they are
 * written (ext4) it costs the image's size again, so the spares held stay within a {@link Budget} of bytes,
 * the least recently used giving way. A spare unused for {@link #IDLE} is removed, so is one whose image is gone.
 *
 * <p>Locks: this object's monitor guards {@code spares}; copies are made, and their cost measured, on this
 * object's own thread, outside the monitor.
 */
final class SpareDataDirs implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SpareDataDirs.class);
    static final Duration IDLE = Duration.ofMinutes(10);

    /** A spare of one image: being copied, or ready since a moment; either holds {@code bytes} of the disk. */
    private sealed interface Spare {
        long bytes();

        record Copying(long bytes) implements Spare {
        }

        record Ready(Path dir, Instant since, long bytes) implements Spare {
        }
    }

    /**
     * What the spares may hold of the disk: {@code bytes} (asked for at each new spare, so it may follow the
     * free space, given the bytes the spares hold already) and what a spare of an image costs.
     */
    record Budget(java.util.function.LongUnaryOperator bytes, java.util.function.ToLongFunction<Image> costOf) {
        /** Clones: a spare costs inodes, and only their number is bounded. */
        static final Budget CLONES = new Budget(held -> Long.MAX_VALUE, image -> 0);
    }

    /** The spares now, for {@code zenith status}: how many are ready, the bytes they hold, the budget. */
    record State(int ready, long bytes, long budgetBytes) {
    }

    private final int capacity;
    private final Budget budget;
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
    SpareDataDirs(int capacity, Budget budget, Path dir, BiFunction<Image, String, Path> copy) {
        this.capacity = capacity;
        this.budget = budget;
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
            while (spares.size() >= capacity && removeOldestReady().map(r -> evicted.add(r.dir())).isPresent()) {
                // made room
            }
            if (spares.size() < capacity) { // else every one is still being copied
                spares.put(image.dataDir(), new Spare.Copying(0));
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

    /** Whether one more copy of {@code image} fits the budget beside the spares held now (a standby spare's). */
    boolean fitsBeside(Image image) {
        long held;
        synchronized (this) {
            held = heldBytes();
        }
        return held + budget.costOf().applyAsLong(image) <= budget.bytes().applyAsLong(held);
    }

    /** What the spares hold or are being copied to hold; called under this object's monitor. */
    private long heldBytes() {
        return spares.values().stream().mapToLong(Spare::bytes).sum();
    }

    /** The spares now; the budget as it stands with what they hold. */
    State state() {
        long held;
        int ready;
        synchronized (this) {
            held = heldBytes();
            ready = (int) spares.values().stream().filter(s -> s instanceof Spare.Ready).count();
        }
        return new State(ready, held, budget.bytes().applyAsLong(held));
    }

    private void make(Image image) {
        if (!reserve(image)) {
            return;
        }
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
            if (spares.get(image.dataDir()) instanceof Spare.Copying copying) {
                Path ready = dir.resolve("spare-" + image.dataDir().getFileName() + "-" + id);
                try {
                    Files.move(copied, ready, StandardCopyOption.ATOMIC_MOVE);
                    spares.put(image.dataDir(), new Spare.Ready(ready, Instant.now(), copying.bytes()));
                    return;
                } catch (IOException e) {
                    log.warn("could not keep a spare copy of image {}: {}", image.dataDir(), e.getMessage());
                    spares.remove(image.dataDir());
                }
            }
        }
        FileTrees.deleteTree(copied); // closed meanwhile, or not kept
    }

    /**
     * Makes room in the budget for a spare of {@code image}, the least recently used ready spares giving way;
     * false (the spare forgotten) when it cannot fit, as an image larger than the whole budget.
     */
    private boolean reserve(Image image) {
        long cost = budget.costOf().applyAsLong(image);
        List<Path> evicted = new ArrayList<>();
        boolean fits;
        synchronized (this) {
            if (!(spares.get(image.dataDir()) instanceof Spare.Copying)) {
                return false; // closed meanwhile
            }
            long held = heldBytes();
            while (held + cost > budget.bytes().applyAsLong(held)) {
                Optional<Spare.Ready> oldest = removeOldestReady();
                if (oldest.isEmpty()) {
                    break;
                }
                evicted.add(oldest.get().dir());
                held -= oldest.get().bytes();
            }
            fits = held + cost <= budget.bytes().applyAsLong(held);
            if (fits) {
                spares.put(image.dataDir(), new Spare.Copying(cost));
            } else {
                spares.remove(image.dataDir());
            }
        }
        evicted.forEach(FileTrees::deleteTree);
        if (!fits) {
            log.info("no spare copy of image {}: its {} bytes do not fit the spares' budget", image.dataDir(), cost);
        }
        return fits;
    }

    /** Forgets the least recently used ready spare; the caller deletes its directory, outside the monitor. */
    private Optional<Spare.Ready> removeOldestReady() {
        Optional<Spare.Ready> oldest = spares.values().stream().filter(s -> s instanceof Spare.Ready)
                .map(s -> (Spare.Ready) s).findFirst();
        oldest.ifPresent(ready -> spares.values().remove(ready));
        return oldest;
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
