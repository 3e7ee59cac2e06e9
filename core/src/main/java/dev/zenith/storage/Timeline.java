package dev.zenith.storage;

import dev.zenith.AtomicFiles;
import dev.zenith.Failpoints;
import dev.zenith.Locks;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * One timeline's directory: {@code timeline.json}, its WAL archive and its images. {@code metadataLock}
 * serializes changes of {@code timeline.json} (each read, changed and written whole); readers see the
 * volatile {@code metadata}.
 */
public final class Timeline {

    static final String METADATA = "timeline.json";

    private final Path dir;
    private final WalArchive wal;
    private final ReentrantLock metadataLock;
    private volatile TimelineMetadata metadata;

    private Timeline(Path dir, TimelineMetadata metadata) {
        this.dir = dir;
        this.metadata = metadata;
        this.wal = new WalArchive(dir);
        this.metadataLock = Locks.newLock("timeline.json of " + metadata.id());
    }

    static Timeline create(Path dir, TimelineMetadata metadata) throws IOException {
        Files.createDirectories(dir.resolve("wal"));
        Files.createDirectories(dir.resolve("wal-partial"));
        Files.createDirectories(dir.resolve("images"));
        AtomicFiles.writeJson(dir.resolve(METADATA), metadata);
        return new Timeline(dir, metadata);
    }

    static Timeline load(Path dir) {
        return new Timeline(dir, AtomicFiles.readJson(dir.resolve(METADATA), TimelineMetadata.class));
    }

    public TimelineId id() {
        return metadata.id();
    }

    public TimelineMetadata metadata() {
        return metadata;
    }

    public WalArchive wal() {
        return wal;
    }

    public Path dir() {
        return dir;
    }

    /** What this timeline follows, when it keeps receiving a source's WAL. */
    public Optional<Following> following() {
        return Following.read(dir);
    }

    /** Ends following: the WAL received so far stays this timeline's history. */
    public void stopFollowing() {
        Following.remove(dir);
    }

    /** Remembers the end of WAL after a clean stop, so children can branch from it with no compute running. */
    public void recordCleanStop(WalPoint end) {
        update(metadata.withLast(end));
    }

    /** Sets this branch's own retention window (null: the repository's). */
    public void setRetention(String window) {
        update(metadata.withRetention(window));
    }

    /** Sets when the daemon deletes this branch (null: never). */
    public void setExpiry(Instant at) {
        update(metadata.withExpiry(at));
    }

    /** Protects this branch from delete and reset since {@code since}, or no more when null. */
    public void setProtection(Instant since) {
        update(metadata.withProtection(since));
    }

    private void update(TimelineMetadata updated) {
        metadataLock.lock();
        try {
            if (!updated.equals(metadata)) {
                AtomicFiles.writeJson(dir.resolve(METADATA), updated);
                metadata = updated;
            }
        } finally {
            metadataLock.unlock();
        }
    }

    /**
     * The history of the Postgres timeline {@code tli} of this timeline's WAL, from the archive, or from
     * {@code livePgWal} (a running compute's pg_wal) when not archived yet.
     */
    public TimelineHistory history(int tli, java.util.Optional<Path> livePgWal) {
        String name = WalFileName.history(tli).toString();
        Path archived = wal.archiveDir().resolve(name);
        if (Files.exists(archived)) {
            return TimelineHistory.read(tli, archived);
        }
        return livePgWal.map(d -> d.resolve(name)).filter(Files::exists)
                .map(f -> TimelineHistory.read(tli, f)).orElse(TimelineHistory.none(tli));
    }

    /** Where this timeline's own history starts: its branch point, or for the root its first image. */
    public Lsn startLsn() {
        if (metadata.ancestorLsn() != null) {
            return metadata.ancestorLsn();
        }
        return images().stream().findFirst().map(Image::lsn).orElse(metadata.lastLsn());
    }

    /** Images, oldest first. */
    public List<Image> images() {
        Path images = dir.resolve("images");
        if (!Files.isDirectory(images)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(images)) {
            return s.map(Image::parse).flatMap(Optional::stream)
                    .sorted(Comparator.comparing(Image::lsn)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + images, e);
        }
    }

    public Optional<Image> newestImageAtOrBefore(Lsn lsn) {
        return images().stream().filter(i -> !i.lsn().isAfter(lsn)).reduce((a, b) -> b);
    }

    public Optional<Image> newestImage() {
        return images().stream().reduce((a, b) -> b);
    }

    /** Moves a cleanly shut down data directory in as an image; it must be on the repository's file system. */
    public Image addImage(Path stagedDataDir, WalPoint at) {
        Path target = dir.resolve("images").resolve(Image.dirName(at.lsn(), at.tli()));
        Failpoints.reach("image-staged");
        try {
            AtomicFiles.moveDurably(stagedDataDir, target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot add image " + target, e);
        }
        return new Image(at.lsn(), at.tli(), target);
    }

    public long sizeBytes() {
        return FileTrees.sizeOf(dir);
    }
}
