package dev.zenith.storage;

import dev.zenith.ZenithException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** zenith's own upgrades: older repositories are brought forward whole, with a backup; newer ones refused. */
class RepositoryFormatTest {

    @TempDir
    Path dir;

    @Test
    void aNewRepositoryHasThisVersionsFormat() {
        Repository repository = Repositories.withRoot(dir.resolve("r"), "0/1000028");
        assertThat(RepositoryFormat.of(repository.root())).isEqualTo(RepositoryFormat.CURRENT);
        assertThat(RepositoryFormat.thisVersion().upgrade(repository.root())).as("nothing to do").isEmpty();
    }

    @Test
    void aRepositoryOfTheFormatBeforeIsUpgradedWithABackupOfItsMetadata() throws IOException {
        Path root = Repositories.withRoot(dir.resolve("r"), "0/1000028").root();
        // as the previous zenith left it: no format file, no pgVersion in config.json, PostgreSQL 18 images
        Files.delete(root.resolve(RepositoryFormat.FILE));
        Files.delete(root.resolve(Repository.API_TOKEN)); // tokens came with format 4
        String oldConfig = Files.readString(root.resolve(Repository.CONFIG)).replaceAll(",\\s*\"pgVersion\"\\s*:\\s*0", "");
        Files.writeString(root.resolve(Repository.CONFIG), oldConfig);
        try (var images = Files.walk(root.resolve("timelines"), 3)) {
            for (Path image : images.filter(p -> p.getParent().getFileName().toString().equals("images")).toList()) {
                Files.writeString(image.resolve("PG_VERSION"), "18\n");
            }
        }
        assertThat(RepositoryFormat.of(root)).isEqualTo(1);
        assertThat(Repository.open(root).config().pgVersion()).as("the old config still reads").isZero();

        Path backup = RepositoryFormat.thisVersion().upgrade(root).orElseThrow();

        assertThat(RepositoryFormat.of(root)).as("through every step").isEqualTo(RepositoryFormat.CURRENT);
        assertThat(Repository.open(root).config().pgVersion()).isEqualTo(18);
        assertThat(Files.readString(backup.resolve(Repository.CONFIG))).isEqualTo(oldConfig);
        assertThat(backup.resolve("branches.json")).exists();
        assertThat(Repository.apiToken(root)).as("an API token made by the upgrade").hasSizeGreaterThan(40);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(Repository.API_TOKEN))))
                .isEqualTo("rw-------");
    }

    @Test
    void aSimulatedNextVersionOpensThisFormatUntouched() throws IOException {
        Path root = Repositories.withRoot(dir.resolve("r"), "0/1000028").root();
        String config = Files.readString(root.resolve(Repository.CONFIG));
        RepositoryFormat next = new RepositoryFormat(RepositoryFormat.CURRENT + 1,
                List.of(step(RepositoryFormat.CURRENT, r -> Files.writeString(r.resolve("next-version-marker"), "made"))));

        Path backup = next.upgrade(root).orElseThrow();

        assertThat(RepositoryFormat.of(root)).isEqualTo(RepositoryFormat.CURRENT + 1);
        assertThat(root.resolve("next-version-marker")).hasContent("made");
        assertThat(Files.readString(backup.resolve(Repository.CONFIG))).isEqualTo(config);
        assertThat(Files.readString(backup.resolve(RepositoryFormat.FILE)).trim()).isEqualTo(Integer.toString(RepositoryFormat.CURRENT));
        assertThat(next.upgrade(root)).as("once").isEmpty();
        // and this version refuses what the next one made, saying what to do
        assertThatThrownBy(() -> Repository.open(root)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("made by a newer zenith (format " + (RepositoryFormat.CURRENT + 1))
                .satisfies(e -> assertThat(((ZenithException) e).hint()).contains("upgrade zenith"));
    }

    @Test
    void anUpgradeThatFailsLeavesTheRepositoryAsItWas() throws IOException {
        Path root = Repositories.withRoot(dir.resolve("r"), "0/1000028").root();
        byte[] config = Files.readAllBytes(root.resolve(Repository.CONFIG));
        RepositoryFormat next = new RepositoryFormat(RepositoryFormat.CURRENT + 1, List.of(step(RepositoryFormat.CURRENT, r -> {
            Files.writeString(r.resolve(Repository.CONFIG), "{\"half\": ", StandardCharsets.UTF_8);
            throw new IOException("disk gone");
        })));

        assertThatThrownBy(() -> next.upgrade(root)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("disk gone").hasMessageContaining("it was left as it was");

        assertThat(RepositoryFormat.of(root)).isEqualTo(RepositoryFormat.CURRENT);
        assertThat(Files.readAllBytes(root.resolve(Repository.CONFIG))).isEqualTo(config);
        assertThat(Repository.open(root).config().maxComputes()).isEqualTo(8);
    }

    private interface Change {
        void apply(Path root) throws IOException;
    }

    private static RepositoryFormat.Step step(int from, Change change) {
        return new RepositoryFormat.Step() {
            @Override
            public int from() {
                return from;
            }

            @Override
            public String what() {
                return "a test's step";
            }

            @Override
            public void apply(Path root) throws IOException {
                change.apply(root);
            }
        };
    }
}
