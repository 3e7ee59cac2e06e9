package dev.zenith.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** From a subdirectory of a project, commands find the project's repository as git finds .git. */
class RepositoryLookupTest {

    @TempDir
    Path dir;

    @Test
    void theNearestRepositoryAboveIsFound() throws Exception {
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve(".zenith"));
        Files.writeString(project.resolve(".zenith/config.json"), "{}");
        Path deep = Files.createDirectories(project.resolve("core/src/main"));
        assertThat(Main.findUpward(deep)).contains(project.resolve(".zenith"));
        assertThat(Main.findUpward(project)).contains(project.resolve(".zenith"));

        Path nested = Files.createDirectories(deep.resolve("nested/.zenith"));
        Files.writeString(nested.resolve("config.json"), "{}");
        assertThat(Main.findUpward(deep.resolve("nested"))).as("the nearest wins").contains(nested);
    }

    @Test
    void aDirectoryNamedZenithWithoutARepositoryIsNotOne() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("elsewhere/.zenith"));
        assertThat(Main.findUpward(empty.getParent())).isEmpty();
    }
}
