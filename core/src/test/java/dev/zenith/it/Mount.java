package dev.zenith.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file system a test makes and mounts (root only): a size-limited tmpfs, or XFS (with reflink) or
 * btrfs in a sparse loop file. Closing unmounts it and removes what was made, whatever the test left.
 */
final class Mount implements AutoCloseable {

    private final Path dir;
    private final Path image;

    private Mount(Path dir, Path image) {
        this.dir = dir;
        this.image = image;
    }

    /** A tmpfs of {@code size} ({@code 200m}). */
    static Mount tmpfs(String size) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "zt-tmpfs");
        run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=755", "tmpfs", dir.toString());
        return new Mount(dir, null);
    }

    /** {@code xfs}, {@code btrfs} or {@code ext4} of {@code sizeMb} in a loop file; the mkfs tools must be installed. */
    static Mount loop(String type, int sizeMb) throws IOException {
        Path image = Files.createTempFile(Path.of("/tmp"), "zt-" + type, ".img");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "zt-" + type);
        try {
            run("truncate", "-s", sizeMb + "M", image.toString());
            List<String> mkfs = new ArrayList<>(switch (type) {
                case "xfs" -> List.of("mkfs.xfs", "-q", "-m", "reflink=1");
                case "ext4" -> List.of("mkfs.ext4", "-q");
                default -> List.of("mkfs." + type, "-q");
            });
            mkfs.add(image.toString());
            run(mkfs.toArray(String[]::new));
            run("mount", "-o", "loop", image.toString(), dir.toString());
            run("chmod", "755", dir.toString());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(image);
            Files.deleteIfExists(dir);
            throw e;
        }
        return new Mount(dir, image);
    }

    /** Whether this machine can make {@code type} file systems (its mkfs is installed). */
    static boolean canMake(String type) {
        return Files.isExecutable(Path.of("/usr/sbin/mkfs." + type)) || Files.isExecutable(Path.of("/sbin/mkfs." + type));
    }

    Path dir() {
        return dir;
    }

    /** Changes the mount's options in place ({@code size=2g} grows a tmpfs). */
    void remount(String options) throws IOException {
        run("mount", "-o", "remount," + options, dir.toString());
    }

    @Override
    public void close() throws IOException {
        run("umount", "-l", dir.toString());
        Files.deleteIfExists(dir);
        if (image != null) {
            Files.deleteIfExists(image);
        }
    }

    static void run(String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
