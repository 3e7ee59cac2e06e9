package dev.zenith.compute;

import dev.zenith.postgres.OsUser;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import dev.zenith.storage.Timeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * Makes an image of a running compute without stopping it: an online base backup. Between
 * {@code pg_backup_start} and {@code pg_backup_stop} the data directory is copied file by file while
 * Postgres keeps writing (full-page writes in the WAL repair any torn page); the backup label says
 * where recovery starts, and {@code pg_backup_stop(wait_for_archive)} returns once the WAL up to the
 * backup's end is in the timeline's archive. The image then needs only that stretch of WAL.
 */
final class ImageMaker {

    /** What a base backup leaves out (as pg_basebackup does): WAL, runtime state, zenith's own recovery files. */
    private static final Set<String> EXCLUDED_FILES = Set.of("postmaster.pid", "postmaster.opts", "recovery.signal",
            "standby.signal", "backup_label", "tablespace_map", DataDirMaker.PLAN_FILE);
    private static final Set<String> EMPTIED_DIRS = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");

    private ImageMaker() {
    }

    static Image make(Connection connection, Path dataDir, Path staging, Timeline timeline, OsUser user) {
        FileTrees.deleteTree(staging);
        try (Statement s = connection.createStatement()) {
            s.execute("SELECT pg_backup_start('zenith image', true)");
            copyDataDirectory(dataDir, staging);
            Lsn end;
            int tli;
            try (ResultSet rs = s.executeQuery("SELECT b.lsn, b.labelfile, b.spcmapfile, pg_walfile_name(b.lsn)"
                    + " FROM pg_backup_stop(true) b")) {
                rs.next();
                end = Lsn.parse(rs.getString(1));
                Files.writeString(staging.resolve("backup_label"), rs.getString(2), StandardCharsets.UTF_8);
                String spcmap = rs.getString(3);
                if (spcmap != null && !spcmap.isEmpty()) {
                    Files.writeString(staging.resolve("tablespace_map"), spcmap, StandardCharsets.UTF_8);
                }
                tli = Integer.parseUnsignedInt(rs.getString(4).substring(0, 8), 16);
            }
            Files.createDirectories(staging.resolve("pg_wal").resolve("archive_status"));
            user.ownTree(staging);
            return timeline.addImage(staging, new WalPoint(end, tli));
        } catch (SQLException e) {
            FileTrees.deleteTree(staging);
            throw new IllegalStateException("base backup failed: " + e.getMessage(), e);
        } catch (IOException e) {
            FileTrees.deleteTree(staging);
            throw new UncheckedIOException("cannot copy " + dataDir + " for an image", e);
        }
    }

    /** Copies a data directory that Postgres is writing: files that vanish meanwhile are skipped, as pg_basebackup does. */
    private static void copyDataDirectory(Path source, Path target) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = source.relativize(dir);
                Files.createDirectories(target.resolve(relative.toString()));
                return relative.getNameCount() == 1 && EMPTIED_DIRS.contains(relative.toString())
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path relative = source.relativize(file);
                String name = file.getFileName().toString();
                if ((relative.getNameCount() == 1 && EXCLUDED_FILES.contains(name)) || name.startsWith("pgsql_tmp")) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, target.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                } catch (NoSuchFileException vanished) {
                    // dropped or truncated away while we copied; WAL replay recreates what is needed
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }
        });
    }
}
