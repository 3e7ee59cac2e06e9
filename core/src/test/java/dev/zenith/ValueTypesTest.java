package dev.zenith;

import dev.zenith.storage.WalFileName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValueTypesTest {

    @Test
    void lsnPrintsAndParsesAsPostgresDoes() {
        assertThat(Lsn.parse("0/15ECF68")).hasToString("0/15ECF68");
        assertThat(Lsn.parse("0/015ECF68")).isEqualTo(Lsn.parse("0/15ECF68"));
        assertThat(Lsn.parse("1/0").value()).isEqualTo(1L << 32);
        assertThat(Lsn.parse("FFFFFFFF/FFFFFFFF").isAfter(Lsn.parse("0/1"))).isTrue();
        for (String bad : new String[] {"", "/", "0/", "/1", "x/1", "123456789/0", "0/123456789", "0-1"}) {
            assertThatThrownBy(() -> Lsn.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0/15ECF68");
        }
    }

    @Test
    void branchNamesAreSafeForPaths() {
        assertThat(new BranchName("feature-1_x").value()).isEqualTo("feature-1_x");
        for (String bad : new String[] {"", "-x", "_x", "a/b", "../x", "a b", "a\u0000b", "x".repeat(64), "é"}) {
            assertThatThrownBy(() -> new BranchName(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("invalid branch name");
        }
        assertThatThrownBy(() -> new BranchName("a\nb")).hasMessageContaining("a\\x0ab");
    }

    @Test
    void walFileNamesRoundTrip() {
        WalFileName seg = WalFileName.segmentOf(2, Lsn.parse("1/2000028"));
        assertThat(seg).hasToString("000000020000000100000002");
        assertThat(WalFileName.parse(seg.toString())).contains(seg);
        assertThat(WalFileName.parse("0000000A.history")).contains(WalFileName.history(10));
        assertThat(WalFileName.parse("000000010000000000000001.partial")).isEmpty();
        assertThat(WalFileName.parse("archive_status")).isEmpty();
    }
}
