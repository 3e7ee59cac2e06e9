package dev.zenith.storage;

import java.io.IOException;
import java.nio.file.Path;

/** Fills a staged timeline directory with files brought from elsewhere (its {@code wal/}, {@code wal-partial/}, {@code images/}). */
public interface TimelineFiller {
    void fill(Path stagedTimelineDir) throws IOException;
}
