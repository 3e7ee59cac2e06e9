package dev.zenith.it;

import dev.zenith.compute.OsUser;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a branch costs depends on the repository's file system: init and status say which kind it is
 * and whether it clones, found by trying on real XFS and btrfs made in loop files, and on a tmpfs.
 */
class FileSystemsTest {

    @Test
    void initAndStatusSayWhetherTheFileSystemClones() throws Exception {
        assumeTrue(OsUser.currentUid() == 0, "making file systems needs root");
        assumeTrue(Mount.canMake("xfs") && Mount.canMake("btrfs"),
                "mkfs.xfs and mkfs.btrfs are missing (apt-get install xfsprogs btrfs-progs)");
        for (String type : new String[] {"xfs", "btrfs"}) {
            try (Mount mount = Mount.loop(type, 512); Zenith z = Zenith.in(mount.dir())) {
                assertThat(z.init().ok().out()).contains("file system: " + type + " (copy-on-write");
                assertThat(z.cli("status").ok().out()).contains("file system: " + type + " (copy-on-write");
                assertThat(z.cli("status", "--json").ok().out()).contains("\"clones\" : true");
            }
        }
        try (Mount mount = Mount.tmpfs("300m"); Zenith z = Zenith.in(mount.dir())) {
            assertThat(z.init().ok().out()).contains("file system: tmpfs (no copy-on-write: a started branch copies its image (")
                    .contains("MiB now)");
            assertThat(z.cli("status", "--json").ok().out()).contains("\"clones\" : false");
        }
    }
}
