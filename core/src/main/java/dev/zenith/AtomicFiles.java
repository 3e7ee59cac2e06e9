package dev.zenith;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes that a crash cannot leave half done: temp file, fsync, rename, fsync of the directory.
 * Every piece of repository metadata goes through here.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    public static void writeJson(Path target, Object value) {
        try {
            write(target, Json.MAPPER.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    public static <T> T readJson(Path source, Class<T> type) {
        try {
            return Json.MAPPER.readValue(source.toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
        }
    }

    public static void write(Path target, byte[] content) {
        write(target, content, new FileAttribute<?>[0]);
    }

    /** As {@link #write}, readable and writable by the owner only, from the first byte on (a password). */
    public static void writePrivate(Path target, byte[] content) {
        write(target, content, new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))});
    }

    /** As {@link #write}, with {@code permissions} from the first byte on (a file replaced keeps its own). */
    public static void write(Path target, byte[] content, java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions) {
        write(target, content, new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)});
    }

    private static void write(Path target, byte[] content, FileAttribute<?>[] created) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    created)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            moveDurably(tmp, target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    /** Copies a file so that the target either does not exist or is complete and on disk. */
    public static void copy(Path source, Path target) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        moveDurably(tmp, target);
    }

    /** Renames atomically and makes the rename itself durable. */
    public static void moveDurably(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
        // a bare name (".env") has no parent of its own: the directory is the current one
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /** Makes the entries of {@code dir} (files made, renamed or removed there) durable. */
    public static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some platforms cannot open a directory for fsync; the rename is still atomic there.
        }
    }
}
