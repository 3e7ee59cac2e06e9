package dev.zenith.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Whether a directory's file system clones files (reflink on XFS and btrfs, clonefile on APFS), found by
 * trying: a file system's name says too little (XFS made without reflink, ZFS with block cloning).
 * With clones a data directory made from an image costs only the blocks Postgres changes; without,
 * each one is a full copy.
 */
public final class CloneProbe {

    private CloneProbe() {
    }

    /** The file system's type as the OS names it ({@code ext4}, {@code xfs}, {@code btrfs}, {@code apfs}). */
    public static String type(Path dir) {
        try {
            return Files.getFileStore(dir).type();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** True when a copy of a file in {@code dir} shares its blocks instead of duplicating them. */
    public static boolean clones(Path dir) {
        Path source = dir.resolve(".clone-probe-" + UUID.randomUUID());
        Path target = dir.resolve(source.getFileName() + ".copy");
        try {
            Files.write(source, new byte[4096]);
            List<String> cmd = System.getProperty("os.name").toLowerCase().contains("mac")
                    ? List.of("cp", "-c", source.toString(), target.toString())
                    : List.of("cp", "--reflink=always", source.toString(), target.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            FileTrees.deleteTree(source);
            FileTrees.deleteTree(target);
        }
    }
}
