package dev.zenith;

import dev.zenith.storage.Repositories;
import dev.zenith.storage.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Storage failures on real files get the advice that fits their cause. */
class StorageFaultTest {

    @TempDir
    Path dir;

    @Test
    void aDamagedJsonFileIsToldApartFromAMissingOneAndFromAFullDisk() throws Exception {
        Repositories.withRoot(dir, "0/1000028");
        Files.writeString(dir.resolve("branches.json"), "{\"main\": ");
        UncheckedIOException damaged = catchThrowableOfType(UncheckedIOException.class, () -> Repository.open(dir).branches());
        ZenithException said = StorageFault.toError(damaged);
        assertThat(StorageFault.of(damaged.getCause())).isEqualTo(StorageFault.DAMAGED);
        assertThat(said.getMessage()).contains("branches.json");
        assertThat(said.hint()).contains("damaged").doesNotContain("df -h");

        Repository repository = Repositories.withRoot(dir.resolve("other"), "0/1000028");
        Path timeline = repository.root().resolve("timelines").resolve(repository.branches().all().values().iterator().next().value());
        Files.delete(timeline.resolve("timeline.json"));
        UncheckedIOException missing = catchThrowableOfType(UncheckedIOException.class,
                () -> Repository.open(repository.root()).timeline(repository.branches().all().values().iterator().next()));
        assertThat(StorageFault.of(missing.getCause())).isEqualTo(StorageFault.MISSING);

        assertThat(StorageFault.of(new java.nio.file.FileSystemException("/x", null, "No space left on device")))
                .isEqualTo(StorageFault.NO_SPACE);
        assertThat(StorageFault.of(new java.nio.file.AccessDeniedException("/x"))).isEqualTo(StorageFault.NO_PERMISSION);
    }
}
