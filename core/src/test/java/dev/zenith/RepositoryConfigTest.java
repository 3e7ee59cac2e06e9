package dev.zenith;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** config.json read once into typed settings: defaults for what an older file lacks, bad values refused by field. */
class RepositoryConfigTest {

    @TempDir
    Path dir;

    @Test
    void anOlderFileTakesTheDefaultsAndSettingsReadTyped() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, """
                {"apiPort": 64001, "superuser": "ann", "idleTimeout": "5m", "retention": "7d", "gcInterval": "never",
                 "auth": "password", "walCompression": "off"}
                """);
        RepositoryConfig config = RepositoryConfig.read(file);
        assertThat(config.apiPort()).isEqualTo(64001);
        assertThat(config.idleTimeout().duration()).contains(Duration.ofMinutes(5));
        assertThat(config.retention().duration()).contains(Duration.ofDays(7));
        assertThat(config.retention()).hasToString("7d");
        assertThat(config.gcInterval().orElse(Duration.ZERO)).isEqualTo(Duration.ZERO);
        assertThat(config.auth()).isEqualTo(AuthMode.PASSWORD);
        assertThat(config.walCompression()).isEqualTo(WalCompression.OFF);
        assertThat(config.housekeepingInterval().duration()).contains(Duration.ofSeconds(30));
        assertThat(config.proxyStartupDeadline()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.maxComputes()).isEqualTo(RepositoryConfig.DEFAULT_MAX_COMPUTES);
        assertThat(config.maxLogMb()).isEqualTo(RepositoryConfig.DEFAULT_MAX_LOG_MB);

        Json.MAPPER.writeValue(file.toFile(), config);
        var written = Json.MAPPER.readTree(file.toFile());
        assertThat(written.get("retention").asText()).isEqualTo("7d");
        assertThat(written.get("auth").asText()).isEqualTo("password");
        assertThat(written.get("gcInterval").asText()).isEqualTo("never");
        assertThat(RepositoryConfig.read(file)).isEqualTo(config);
    }

    @Test
    void aBadValueIsRefusedNamingItsField() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"gcInterval\": \"hourly\"}");
        assertThatThrownBy(() -> RepositoryConfig.read(file)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("config.json's gcInterval is not valid: invalid duration \"hourly\"");
        Files.writeString(file, "{\"auth\": \"md5\"}");
        assertThatThrownBy(() -> RepositoryConfig.read(file)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("config.json's auth is not valid: invalid auth \"md5\": use trust or password");
        Files.writeString(file, "{\"walCompression\": \"gzip\"}");
        assertThatThrownBy(() -> RepositoryConfig.read(file))
                .hasMessageContaining("invalid walCompression \"gzip\": use off, pglz, lz4, zstd");
        Files.writeString(file, "{\"maxLogMb\": -1}");
        assertThatThrownBy(() -> RepositoryConfig.read(file)).hasMessageContaining("invalid maxLogMb -1");
    }

    @Test
    void theBuilderChangesOnlyWhatItIsTold() {
        RepositoryConfig base = RepositoryConfig.defaults().superuser("ann").retention(Interval.parse("2h")).build();
        RepositoryConfig changed = base.toBuilder().auth(AuthMode.PASSWORD).build();
        assertThat(changed.auth()).isEqualTo(AuthMode.PASSWORD);
        assertThat(changed.toBuilder().auth(AuthMode.TRUST).build()).isEqualTo(base);
        assertThat(changed.retention().duration()).contains(Duration.ofHours(2));
        assertThatThrownBy(() -> RepositoryConfig.defaults().maxComputes(-2).build()).hasMessageContaining("invalid maxComputes -2");
    }
}
