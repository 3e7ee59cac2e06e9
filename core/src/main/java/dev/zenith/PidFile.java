package dev.zenith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A pid file ({@code postmaster.pid}, {@code pageserver.pid}): the process its first line names, while it lives. */
public final class PidFile {

    private PidFile() {
    }

    /** The live process the file names; empty when the file is missing, unreadable or stale. */
    public static Optional<ProcessHandle> liveProcess(Path file) {
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(file);
            if (lines.isEmpty() || lines.get(0).isBlank()) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // being written or removed: no process to speak of yet
        }
    }
}
