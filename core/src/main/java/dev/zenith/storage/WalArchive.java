package dev.zenith.storage;

import dev.zenith.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The WAL of one timeline, in Postgres's own file format so stock tools read it.
 *
 * <p>{@code wal/} is written by Postgres's archiver ({@code basic_archive}) and holds complete
 * segments and history files. {@code wal-partial/} holds the segment that was still open when the
 * timeline's compute last stopped, captured by the daemon; it lives apart so that the archiver, which
 * refuses to overwrite a file with other contents, never meets it when that segment is later completed.
 */
public final class WalArchive {

    private final Path archiveDir;
    private final Path partialDir;

    /** The WAL of the timeline in {@code timelineDir}, which may still be staged. */
    public WalArchive(Path timelineDir) {
        this.archiveDir = timelineDir.resolve("wal");
        this.partialDir = timelineDir.resolve("wal-partial");
    }

    /** Where Postgres's archiver writes; the compute makes it writable for its OS user. */
    public Path archiveDir() {
        return archiveDir;
    }

    /** True once a compute of this timeline has been promoted: its history file is archived. */
    public boolean hasHistory() {
        return list(archiveDir).keySet().stream().anyMatch(WalFileName::history);
    }

    /** Complete files of the archive, keyed by name. */
    public Map<WalFileName, Path> archived() {
        return list(archiveDir);
    }

    /** Open segments captured at clean stops. */
    public Map<WalFileName, Path> partial() {
        return list(partialDir);
    }

    /**
     * Saves what a cleanly stopped compute left in {@code pg_wal}: files still waiting for the archiver
     * go to the archive as they are, and the open segment (the one holding the shutdown checkpoint)
     * goes to {@code wal-partial/}. Idempotent.
     */
    public void captureFromStoppedCompute(Path pgWal, WalFileName openSegment) {
        try {
            Files.createDirectories(partialDir);
            Path status = pgWal.resolve("archive_status");
            if (Files.isDirectory(status)) {
                try (Stream<Path> ready = Files.list(status)) {
                    for (Path marker : ready.toList()) {
                        String name = marker.getFileName().toString();
                        if (name.endsWith(".ready")) {
                            String file = name.substring(0, name.length() - ".ready".length());
                            if (WalFileName.parse(file).isPresent() && !Files.exists(archiveDir.resolve(file))) {
                                copyAsArchiveOwner(pgWal.resolve(file), archiveDir.resolve(file));
                            }
                        }
                    }
                }
            }
            Path open = pgWal.resolve(openSegment.toString());
            if (!Files.exists(archiveDir.resolve(openSegment.toString())) && Files.exists(open)) {
                copyAsArchiveOwner(open, partialDir.resolve(openSegment.toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot capture WAL from " + pgWal + " into " + archiveDir, e);
        }
    }

    /**
     * Moves the WAL a base backup came with (the copy's {@code pg_wal}) into this timeline, which is
     * still staged: complete segments to the archive, the one holding the copy's end, still open,
     * to {@code wal-partial/}, as a clean stop leaves them. The files are expected on disk already (the
     * copy was synced); the moves are made durable here.
     */
    public void takeCopiedWal(Path pgWal, WalFileName openSegment) {
        try {
            for (Map.Entry<WalFileName, Path> f : list(pgWal).entrySet()) {
                Path target = (f.getKey().equals(openSegment) ? partialDir : archiveDir).resolve(f.getKey().toString());
                Files.move(f.getValue(), target, StandardCopyOption.ATOMIC_MOVE);
            }
            AtomicFiles.fsyncDirectory(archiveDir);
            AtomicFiles.fsyncDirectory(partialDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot take the WAL of " + pgWal + " into " + archiveDir, e);
        }
    }

    /**
     * The archive belongs to the OS user Postgres runs as (it writes there); files the daemon adds
     * belong to the same user, so that a recovery running as that user can read them.
     */
    private void copyAsArchiveOwner(Path source, Path target) throws IOException {
        AtomicFiles.copy(source, target);
        Object uid = Files.getAttribute(archiveDir, "unix:uid");
        Object gid = Files.getAttribute(archiveDir, "unix:gid");
        if (!uid.equals(Files.getAttribute(target, "unix:uid")) || !gid.equals(Files.getAttribute(target, "unix:gid"))) {
            Files.setAttribute(target, "unix:uid", uid);
            Files.setAttribute(target, "unix:gid", gid);
        }
    }

    /**
     * Keeps a copy of a segment still being received as this timeline's open segment in
     * {@code wal-partial/}, replacing an older copy: what a branch made now recovers from.
     */
    public void capturePartial(Path receiving, WalFileName segment) {
        try {
            Files.createDirectories(partialDir);
            copyAsArchiveOwner(receiving, partialDir.resolve(segment.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot capture " + receiving + " into " + partialDir, e);
        }
    }

    /** Gives files another process put into the archive (as another user) to the archive's owner, who recovers from them. */
    public void adoptFiles() {
        try (Stream<Path> files = Files.list(archiveDir)) {
            Object uid = Files.getAttribute(archiveDir, "unix:uid");
            Object gid = Files.getAttribute(archiveDir, "unix:gid");
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!uid.equals(Files.getAttribute(f, "unix:uid"))) {
                    Files.setAttribute(f, "unix:uid", uid);
                    Files.setAttribute(f, "unix:gid", gid);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot adopt the files of " + archiveDir, e);
        }
    }

    public long sizeBytes() {
        return FileTrees.sizeOf(archiveDir) + FileTrees.sizeOf(partialDir);
    }

    public static Map<WalFileName, Path> list(Path dir) {
        Map<WalFileName, Path> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> {
                Optional<WalFileName> name = WalFileName.parse(p.getFileName().toString());
                name.ifPresent(n -> files.put(n, p));
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return files;
    }
}
