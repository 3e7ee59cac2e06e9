package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Branches that clean themselves up, and branches that cannot be deleted or reset by mistake. */
class ExpiryAndProtectionTest {

    @Test
    void anExpiredBranchIsDeletedWithItsComputeUnlessSomethingNeedsIt() throws Exception {
        try (Zenith z = Zenith.started()) {
            z.cli("branch", "preview", "main", "--expires", "4s").ok();
            z.start("preview");
            Instant expiresAt = Instant.parse(branch(z, "preview").orElseThrow().get("expiresAt").asText());
            assertThat(expiresAt).isBetween(Instant.now(), Instant.now().plusSeconds(5));
            assertThat(z.cli("branch").ok().out()).contains("expires " + expiresAt);

            z.cli("branch", "parent", "main", "--expires", "4s").ok();
            z.cli("branch", "child", "parent").ok();
            z.cli("branch", "later", "main").ok();
            assertThat(z.cli("branch", "expire", "later", "2h").ok().out()).contains("branch later expires at ");
            assertThat(z.cli("branch", "expire", "later", "never").ok().out()).contains("branch later never expires");
            assertThat(branch(z, "later").orElseThrow().get("expiresAt").isNull()).isTrue();

            Zenith.waitFor(Duration.ofSeconds(30), () -> branch(z, "preview").isEmpty(), "the expired branch to be deleted");
            assertThat(z.compute("preview")).as("its compute went with it").isEmpty();
            Zenith.waitFor(Duration.ofSeconds(30), () -> branch(z, "parent").isEmpty(), "the expired parent to be deleted");
            assertThat(log(z)).contains("branch parent deleted").contains("its history stays for child");
            assertThat(branch(z, "child")).as("its child stays, with the history it needs").isPresent();
            assertThat(z.queryLong(z.start("child"), "SELECT 1")).isEqualTo(1);
            assertThat(branch(z, "later")).isPresent();

            Zenith.Result past = z.cli("branch", "old", "main", "--expires", "2020-01-01T00:00Z");
            assertThat(past.exit()).isEqualTo(2);
            assertThat(past.err()).contains("expiry 2020-01-01T00:00:00Z is already past");
            Zenith.Result bad = z.cli("branch", "expire", "later", "tomorrow");
            assertThat(bad.exit()).isEqualTo(2);
            assertThat(bad.err()).contains("invalid expiry \"tomorrow\"");
            assertThat(z.cli("branch", "expire", "main", "1h").exit()).as("main never expires").isEqualTo(2);
        }
    }

    @Test
    void aProtectedBranchRefusesDeleteAndResetUntilUnprotected() throws Exception {
        try (Zenith z = Zenith.started()) {
            z.cli("branch", "prod-copy", "main").ok();
            z.cli("branch", "protect", "prod-copy").ok();
            assertThat(branch(z, "prod-copy").orElseThrow().get("protected").asBoolean()).isTrue();
            assertThat(branch(z, "main").orElseThrow().get("protected").asBoolean()).as("main always is").isTrue();

            Zenith.Result delete = z.cli("branch", "delete", "prod-copy");
            assertThat(delete.exit()).isEqualTo(1);
            assertThat(delete.err()).contains("branch \"prod-copy\" is protected and cannot be deleted")
                    .contains("zenith branch unprotect prod-copy");
            Zenith.Result reset = z.cli("branch", "reset", "prod-copy");
            assertThat(reset.exit()).isEqualTo(1);
            assertThat(reset.err()).contains("is protected and cannot be reset");
            Zenith.Result main = z.cli("branch", "unprotect", "main");
            assertThat(main.exit()).isEqualTo(2);
            assertThat(main.err()).contains("main is always protected");

            z.cli("branch", "unprotect", "prod-copy").ok();
            assertThat(branch(z, "prod-copy").orElseThrow().get("protected").asBoolean()).isFalse();
            z.cli("branch", "delete", "prod-copy").ok();
            assertThat(branch(z, "prod-copy")).isEmpty();
        }
    }

    private static Optional<JsonNode> branch(Zenith z, String name) {
        try {
            for (JsonNode b : Json.MAPPER.readTree(z.cli("branch", "--json").ok().out())) {
                if (b.get("name").asText().equals(name)) {
                    return Optional.of(b);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String log(Zenith z) {
        try {
            return Files.readString(z.repo().resolve("logs/pageserver.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
