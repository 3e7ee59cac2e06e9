package dev.zenith;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class AtomicFilesTest {

    /** A path with no directory part ({@code --env-file .env}) has no parent to sync: the current directory is. */
    @Test
    void aBareFileNameIsWrittenInTheCurrentDirectory() throws Exception {
        Path bare = Path.of("zenith-atomic-" + UUID.randomUUID() + ".env");
        try {
            AtomicFiles.write(bare, "DATABASE_URL=postgresql://x\n".getBytes(StandardCharsets.UTF_8));
            assertThat(Files.readString(bare)).isEqualTo("DATABASE_URL=postgresql://x\n");
            AtomicFiles.write(bare, "DATABASE_URL=postgresql://y\n".getBytes(StandardCharsets.UTF_8));
            assertThat(Files.readString(bare)).isEqualTo("DATABASE_URL=postgresql://y\n");
        } finally {
            Files.deleteIfExists(bare);
        }
    }
}
