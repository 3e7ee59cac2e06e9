package dev.zenith.storage;

import dev.zenith.Interval;
import dev.zenith.Lsn;
import dev.zenith.RepositoryConfig;
import dev.zenith.WalPoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Repositories made on a real file system without Postgres, for the fast tests: images are directories
 * with the names and backup labels zenith reads, WAL files are files with Postgres's names.
 */
public final class Repositories {

    private Repositories() {
    }

    /** An empty repository with default settings. */
    public static Repository create(Path dir) {
        return Repository.create(dir, config(8, "24h"));
    }

    public static RepositoryConfig config(int maxComputes, String retention) {
        return RepositoryConfig.defaults().superuser("zenith").maxComputes(maxComputes).retention(Interval.parse(retention)).build();
    }

    /** A repository whose main branch has a clean image at {@code lsn} on Postgres timeline 1. */
    public static Repository withRoot(Path dir, String lsn) {
        Repository repository = create(dir);
        repository.createRoot(dev.zenith.BranchName.MAIN, staged(repository, "root"), new WalPoint(Lsn.parse(lsn), 1), null, null, t -> { });
        return repository;
    }

    /** Adds an image at {@code lsn}: clean (a shut-down data directory), or a base backup starting at {@code backupStart}. */
    public static Image image(Repository repository, Timeline timeline, String lsn, int tli, String backupStart) {
        Path staged = staged(repository, "image-" + lsn.replace('/', '-'));
        if (backupStart != null) {
            write(staged.resolve("backup_label"), "START WAL LOCATION: " + backupStart + " (file 000000010000000000000001)\n");
        }
        return timeline.addImage(staged, new WalPoint(Lsn.parse(lsn), tli));
    }

    /** Puts a file with a WAL file's name into a timeline's archive. */
    public static Path archive(Timeline timeline, String name) {
        Path file = timeline.wal().archiveDir().resolve(name);
        write(file, name);
        return file;
    }

    static Path staged(Repository repository, String name) {
        Path dir = repository.tmpDir().resolve(name);
        try {
            Files.createDirectories(dir.resolve("global"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
