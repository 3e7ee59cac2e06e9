package dev.zenith.storage;

import dev.zenith.AtomicFiles;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Where the repository's removed directories (timelines, images, data directories) go: into tmp/ in one
 * rename, so a crash never leaves half of one where it would be used, then deleted, at once or on the
 * graveyard's own thread for a caller that should not wait for a thousand files to go (a branch deleted
 * after every test). What a crash or a stopping daemon leaves in tmp/ the next daemon clears.
 *
 * <p>Thread-safe: each burial is one rename; the thread deletes one directory at a time.
 */
final class Graveyard {

    private final Path tmpDir;
    /** Its thread starts with the first burial that does not wait: the CLI, which only buries at once, never has one. */
    private final ExecutorService deleter =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("graveyard").factory());

    Graveyard(Path tmpDir) {
        this.tmpDir = tmpDir;
    }

    /** Removes a directory now; returns the bytes freed. */
    long bury(Path dir) {
        long bytes = FileTrees.sizeOf(dir);
        FileTrees.deleteTree(moveAside(dir));
        return bytes;
    }

    /** Moves a directory aside now and deletes it in the background; returns the bytes that will be freed. */
    long buryInBackground(Path dir) {
        long bytes = FileTrees.sizeOf(dir);
        Path grave = moveAside(dir);
        deleter.execute(() -> {
            try {
                FileTrees.deleteTree(grave);
            } catch (RuntimeException e) {
                // the logger is looked up here, not held: the CLI opens repositories before the daemon points SLF4J at its log
                LoggerFactory.getLogger(Graveyard.class).warn("could not delete {}; the next daemon start clears it: {}",
                        grave, e.getMessage());
            }
        });
        return bytes;
    }

    private Path moveAside(Path dir) {
        Path grave = tmpDir.resolve("deleted-" + UUID.randomUUID());
        try {
            AtomicFiles.moveDurably(dir, grave);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
        return grave;
    }
}
