package dev.zenith.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a running postmaster says of itself on the eighth line of {@code postmaster.pid}, the line
 * {@code pg_ctl} waits on. Reading it costs a small file read where asking over SQL costs a connection
 * and a backend; a start waits on it in millisecond steps while Postgres is busy starting.
 */
public enum PostmasterStatus {
    STARTING("starting"),
    /** Consistent in recovery but taking no connections: hot_standby is off. */
    STANDBY("standby"),
    /** Taking connections: out of recovery, or a hot standby (read-only) in it. */
    READY("ready"),
    STOPPING("stopping");

    private static final String FILE = "postmaster.pid";
    private static final int STATUS_LINE = 7;

    private final String word;

    PostmasterStatus(String word) {
        this.word = word;
    }

    /**
     * The status postmaster {@code pid} last wrote in its data directory; empty before it has written one.
     * The pid tells a starting postmaster's file from one a crashed postmaster left behind.
     */
    public static Optional<PostmasterStatus> of(Path dataDir, long pid) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve(FILE));
            if (lines.size() <= STATUS_LINE || !lines.get(0).trim().equals(Long.toString(pid))) {
                return Optional.empty();
            }
            String word = lines.get(STATUS_LINE).trim();
            for (PostmasterStatus s : values()) {
                if (s.word.equals(word)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // not written yet, or being rewritten
        }
    }
}
