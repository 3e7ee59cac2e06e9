package dev.zenith.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CountsTest {

    @Test
    void oneIsSingularEverythingElsePlural() {
        assertThat(Counts.of(1, "branch", "branches")).isEqualTo("1 branch");
        assertThat(Counts.of(0, "branch", "branches")).isEqualTo("0 branches");
        assertThat(Counts.of(2, "WAL file", "WAL files")).isEqualTo("2 WAL files");
    }
}
