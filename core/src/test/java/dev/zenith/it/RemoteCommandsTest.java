package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code zenith remote add/list/remove}: kept in remotes.json, never with credentials; bad input refused. */
class RemoteCommandsTest {

    @Test
    void remotesAreAddedListedAndRemoved() throws Exception {
        try (Zenith z = Zenith.empty()) {
            z.init().ok();
            assertThat(z.cli("remote", "list").ok().out()).contains("no remotes");
            assertThat(z.cli("remote", "add", "origin", "s3://team-db/shop/", "--endpoint", "http://127.0.0.1:9000").ok().out())
                    .contains("added remote origin at s3://team-db/shop on http://127.0.0.1:9000");
            z.cli("remote", "add", "aws", "s3://team-db", "--region", "eu-north-1").ok();
            JsonNode remotes = Json.MAPPER.readTree(z.cli("remote", "list", "--json").ok().out());
            assertThat(remotes).hasSize(2);
            assertThat(remotes.get(0).path("name").asText()).isEqualTo("aws");
            assertThat(remotes.get(0).path("pathStyle").asBoolean()).as("AWS: virtual hosts").isFalse();
            assertThat(remotes.get(1).path("url").asText()).isEqualTo("s3://team-db/shop");
            assertThat(remotes.get(1).path("pathStyle").asBoolean()).as("an IP endpoint: path style").isTrue();
            assertThat(Files.readString(z.repo().resolve("remotes.json"))).doesNotContainIgnoringCase("secret")
                    .doesNotContainIgnoringCase("key");

            Zenith.Result again = z.cli("remote", "add", "origin", "s3://other");
            assertThat(again.exit()).isEqualTo(1);
            assertThat(again.err()).contains("remote origin already exists");
            for (String[] bad : new String[][] {{"bad name", "s3://team-db"}, {"x", "https://team-db"}, {"x", "s3://UPPER"},
                    {"x", "s3://team-db", "--endpoint", "ftp://host"}}) {
                String[] args = new String[bad.length + 2];
                args[0] = "remote";
                args[1] = "add";
                System.arraycopy(bad, 0, args, 2, bad.length);
                Zenith.Result r = z.cli(args);
                assertThat(r.exit()).as(String.join(" ", bad) + ": " + r.err()).isEqualTo(2);
            }
            z.cli("remote", "remove", "aws").ok();
            Zenith.Result gone = z.cli("remote", "remove", "aws");
            assertThat(gone.exit()).isEqualTo(1);
            assertThat(gone.err()).contains("no remote is named \"aws\"");
            assertThat(z.cli("remote", "list").ok().out()).contains("origin").doesNotContain("aws");
        }
    }
}
