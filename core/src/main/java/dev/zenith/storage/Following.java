package dev.zenith.storage;

import dev.zenith.AtomicFiles;
import dev.zenith.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A root timeline that keeps receiving its source's WAL ({@code zenith import --follow}): how to reach the
 * source again, kept in the timeline's {@code follow.json}, owner-only, since {@code environment} may hold
 * the password (docs/SECURITY.md). Its absence means the timeline follows nothing.
 *
 * @param conninfo    the source's connection string, as the user gave it
 * @param environment the libpq variables of the terminal that asked (PGPASSWORD, PGPASSFILE, ...) and where
 *                    its client tools are (PATH, ZENITH_PG_TOOLS)
 * @param slot        the replication slot on the source that keeps its WAL for us, or null
 * @param since       when following began
 */
public record Following(String conninfo, Map<String, String> environment, String slot, Instant since) {

    static final String FILE = "follow.json";

    static Optional<Following> read(Path timelineDir) {
        Path file = timelineDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(AtomicFiles.readJson(file, Following.class));
    }

    /** Writes it into a (staged) timeline directory, readable by its owner only. */
    public void writeInto(Path timelineDir) {
        try {
            AtomicFiles.writePrivate(timelineDir.resolve(FILE), Json.MAPPER.writeValueAsBytes(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + timelineDir.resolve(FILE), e);
        }
    }

    static void remove(Path timelineDir) {
        try {
            Files.deleteIfExists(timelineDir.resolve(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + timelineDir.resolve(FILE), e);
        }
    }
}
