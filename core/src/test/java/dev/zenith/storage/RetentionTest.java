package dev.zenith.storage;

import dev.zenith.BranchName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetentionTest {

    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

    @Test
    void aWindowReachesThatFarBack() {
        assertThat(Retention.parse("24h").horizon(NOW)).isEqualTo(NOW.minus(Duration.ofHours(24)));
        assertThat(Retention.parse("7d").horizon(NOW)).isEqualTo(NOW.minus(Duration.ofDays(7)));
        assertThat(Retention.parse("90m")).hasToString("90m");
    }

    @Test
    void neverKeepsEverything() {
        assertThat(Retention.parse("never").horizon(NOW)).isEqualTo(Instant.EPOCH);
        assertThat(Retention.parse("never").duration()).isEmpty();
    }

    @Test
    void aBadWindowIsRefusedNamingIt() {
        assertThatThrownBy(() -> Retention.parse("2 weeks")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid retention \"2 weeks\"");
    }

    @Test
    void aBranchsOwnWindowOverridesTheRepositorys(@TempDir Path dir) {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        assertThat(repository.retention(main)).hasToString("24h");
        repository.setRetention(BranchName.MAIN, "2h");
        assertThat(repository.retention(main)).hasToString("2h");
        repository.setRetention(BranchName.MAIN, null);
        assertThat(repository.retention(main)).hasToString("24h");
    }

    @Test
    void settingABadWindowChangesNothing(@TempDir Path dir) {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        assertThatThrownBy(() -> repository.setRetention(BranchName.MAIN, "soon")).isInstanceOf(IllegalArgumentException.class);
        assertThat(repository.requireBranch(BranchName.MAIN).metadata().retention()).isNull();
    }

    @Test
    void mainCannotBeRenamed(@TempDir Path dir) {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        assertThatThrownBy(() -> repository.renameBranch(BranchName.MAIN, new BranchName("trunk")))
                .hasMessageContaining("main cannot be renamed");
        assertThat(repository.branch(BranchName.MAIN)).isPresent();
    }
}
