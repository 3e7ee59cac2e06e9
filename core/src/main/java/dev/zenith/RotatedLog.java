package dev.zenith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A log file and its older generations, {@code FILE.1} (the newest) to {@code FILE.}{@value #KEPT} (the
 * oldest), named as logback's fixed window rolls the daemon's log, so one reader serves every log.
 */
public record RotatedLog(Path file) {

    /** How many older generations are kept beside the current file. */
    public static final int KEPT = 3;

    /** The generations that exist, oldest first, the current file last. */
    public List<Path> generations() {
        List<Path> files = new ArrayList<>();
        for (int i = KEPT; i >= 1; i--) {
            Path older = generation(i);
            if (Files.isRegularFile(older)) {
                files.add(older);
            }
        }
        if (Files.isRegularFile(file)) {
            files.add(file);
        }
        return files;
    }

    /**
     * When the file is over {@code maxBytes}, copies it to {@code .1} (shifting the older ones, dropping
     * the oldest) and empties it. Copy and truncate, as logrotate's {@code copytruncate}, because the
     * writer is a Postgres that holds the file open for appending until it stops and cannot be told to
     * reopen it: its next line lands at the start of the emptied file. A line written between the copy
     * and the truncation is lost; renaming instead would lose none but leave Postgres writing into
     * {@code .1} until its next restart, and the cap would not hold.
     *
     * @return whether the file was rolled
     */
    public boolean rollIfOver(long maxBytes) {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) <= maxBytes) {
                return false;
            }
            Files.deleteIfExists(generation(KEPT));
            for (int i = KEPT - 1; i >= 1; i--) {
                if (Files.exists(generation(i))) {
                    Files.move(generation(i), generation(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.copy(file, generation(1), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(0);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot roll the log " + file + ": " + e.getMessage(), e);
        }
    }

    private Path generation(int i) {
        return file.resolveSibling(file.getFileName() + "." + i);
    }
}
