package dev.zenith.storage;

import dev.zenith.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** Whole directory trees: how much they hold, making them durable, and removing them. */
public final class FileTrees {

    static final boolean IS_LINUX = System.getProperty("os.name").startsWith("Linux");

    private FileTrees() {
    }

    /** Bytes used under a path, not following links; 0 if it does not exist. */
    public static long sizeOf(Path path) {
        long[] total = {0};
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total[0] += attrs.size();
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total[0];
    }

    /**
     * Makes everything written under a directory tree durable, its directories' entries too. On Linux by
     * one syncfs() of its file system ({@code sync -f} of coreutils, as the JDK has no call for it): for
     * a freshly copied gigabyte twice as fast as an fsync() per file (docs/BENCHMARKS.md), at the price
     * of also flushing whatever else is pending on that file system. Elsewhere, or when that fails,
     * file by file.
     */
    public static void sync(Path tree) {
        try {
            if (IS_LINUX && syncFileSystem(tree)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while syncing " + tree, e);
        }
        try {
            Files.walkFileTree(tree, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile()) {
                        force(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) {
                    AtomicFiles.fsyncDirectory(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot sync " + tree + " to disk", e);
        }
    }

    /**
     * One syncfs() of the file system {@code tree} is on; false when it could not be made. Interrupted, it
     * stops waiting (the sync goes on by itself): a {@link Writeback} ends that way.
     */
    static boolean syncFileSystem(Path tree) throws InterruptedException {
        try {
            Process sync = new ProcessBuilder("sync", "-f", tree.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return sync.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Removes a directory tree; absent is fine. */
    public static void deleteTree(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path, e);
        }
    }
}
