package dev.zenith.cli;

import dev.zenith.ZenithException;
import dev.zenith.postgres.OsUser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "volume", mixinStandardHelpOptions = true,
        description = "A file system that clones, in a file, for a machine whose own (ext4) copies every started branch.",
        subcommands = VolumeCommand.Create.class)
final class VolumeCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Make an XFS with reflinks in a file of SIZE and mount it at PATH (default .zenith here, where",
                    "zenith init then puts the repository), so branches share their parent's blocks. As root it is",
                    "mounted as a loop device; otherwise udisksctl mounts it (a local desktop session may), else the",
                    "sudo commands are printed. Run it again to mount the volume after a reboot. The file grows as it",
                    "fills: it is sparse.", "",
                    "Example: zenith volume create 20G && zenith init"})
    static final class Create implements java.util.concurrent.Callable<Integer> {
        /** Below this, a repository with a base backup and some WAL does not fit. */
        private static final long MIN_BYTES = 300L << 20;
        private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);
        private static final Pattern LOOP_DEVICE = Pattern.compile("(/dev/loop\\d+)");
        private static final Pattern MOUNTED_AT = Pattern.compile(" at (/\\S+?)\\.?$", Pattern.MULTILINE);

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SIZE", description = "How large it may grow: 20G, 512M, 1T.")
        String size;

        @Parameters(index = "1", paramLabel = "PATH", arity = "0..1",
                description = "Where to mount it: an empty or new directory (default: .zenith in this directory).")
        Path path;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            long bytes = parseSize(size);
            Path target = Main.workingDirectory(spec).resolve(path == null ? Path.of(".zenith") : path).normalize();
            Path image = imageFor(target);
            if (isMountPoint(target)) {
                throw ZenithException.conflict(target + " is a mount point already (" + fileSystemOf(target) + ")",
                        "use it: zenith init --repo " + target);
            }
            if (Files.isDirectory(target) && !isEmpty(target)) {
                throw ZenithException.conflict(target + " is not empty, so no volume is mounted over it",
                        "name an empty or new directory: zenith volume create " + size + " PATH");
            }
            if (Files.exists(image)) {
                out.println("mounting the volume made before: " + image);
            } else {
                make(image, bytes);
                out.println("made an XFS with reflinks of up to " + Bytes.human(bytes) + " in " + image + " (sparse: it grows as it fills)");
            }
            out.flush();
            Files.createDirectories(target);
            Path mounted = mount(image, target);
            out.println("mounted at " + mounted + (mounted.equals(target) ? "" : " (" + target + " links there)"));
            out.println("next: zenith init" + (target.equals(Main.workingDirectory(spec).resolve(".zenith")) ? "" : " --repo " + target)
                    + "; after a reboot, run this command again to mount it");
            out.flush();
            return 0;
        }

        static long parseSize(String text) {
            Matcher m = SIZE.matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("invalid SIZE \"" + text + "\": write a number with K, M, G or T (20G, 512M)");
            }
            int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> 0;
            };
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift) || (n << shift) < MIN_BYTES) {
                throw new IllegalArgumentException("invalid SIZE \"" + text + "\": a volume takes from 300M up");
            }
            return n << shift;
        }

        /** Where the file of the volume mounted at {@code target} lives: the user's data directory, not the project. */
        private static Path imageFor(Path target) {
            String dataHome = Optional.ofNullable(System.getenv("XDG_DATA_HOME")).filter(s -> !s.isBlank())
                    .orElse(System.getProperty("user.home") + "/.local/share");
            String name = target.toString().replaceAll("^/+", "").replaceAll("[^A-Za-z0-9._-]", "_");
            return Path.of(dataHome, "zenith", "volumes", name + ".xfs");
        }

        /**
         * A sparse file of {@code bytes} with an XFS in it whose root belongs to the user (a protofile says so),
         * so the user writes there without a chown, however it is mounted.
         */
        private static void make(Path image, long bytes) throws IOException {
            Files.createDirectories(image.getParent());
            Path tmp = image.resolveSibling(image.getFileName() + ".tmp");
            Path proto = image.resolveSibling(image.getFileName() + ".proto");
            try {
                try (RandomAccessFile file = new RandomAccessFile(tmp.toFile(), "rw")) {
                    file.setLength(bytes);
                }
                var me = new com.sun.security.auth.module.UnixSystem();
                Files.writeString(proto, "/dev/null\n0 0\nd--755 " + me.getUid() + " " + me.getGid() + "\n$\n");
                Result mkfs = run(List.of(mkfsXfs(), "-q", "-m", "reflink=1", "-p", proto.toString(), tmp.toString()));
                if (mkfs.exit() != 0) {
                    throw ZenithException.failed("mkfs.xfs could not make the volume: " + mkfs.output().strip(), null);
                }
                Files.move(tmp, image);
            } finally {
                Files.deleteIfExists(tmp);
                Files.deleteIfExists(proto);
            }
        }

        private static String mkfsXfs() {
            for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
                if (Files.isExecutable(Path.of(dir, "mkfs.xfs"))) {
                    return dir + "/mkfs.xfs";
                }
            }
            throw ZenithException.failed("mkfs.xfs is not installed, so no XFS can be made",
                    "install it (apt-get install xfsprogs, dnf install xfsprogs), then run this again");
        }

        /**
         * Mounts as root with a loop device; otherwise through udisks, which mounts under /media and is linked
         * from {@code target}; where neither can, the failure names the sudo commands that would.
         */
        private static Path mount(Path image, Path target) {
            if (OsUser.currentUid() == 0) {
                Result r = run(List.of("mount", "-o", "loop", image.toString(), target.toString()));
                if (r.exit() != 0) {
                    throw ZenithException.failed("cannot mount " + image + " at " + target + ": " + r.output().strip(), null);
                }
                return target;
            }
            String sudo = "sudo mount -o loop " + image + " " + target;
            Optional<String> why = Optional.empty();
            if (onPath("udisksctl")) {
                Result loop = run(List.of("udisksctl", "loop-setup", "--no-user-interaction", "-f", image.toString()));
                Matcher device = LOOP_DEVICE.matcher(loop.output());
                if (loop.exit() == 0 && device.find()) {
                    Result mount = run(List.of("udisksctl", "mount", "--no-user-interaction", "-b", device.group(1)));
                    Matcher at = MOUNTED_AT.matcher(mount.output().strip());
                    if (mount.exit() == 0 && at.find()) {
                        Path mountPoint = Path.of(at.group(1));
                        link(target, mountPoint);
                        return mountPoint;
                    }
                    run(List.of("udisksctl", "loop-delete", "--no-user-interaction", "-b", device.group(1)));
                    why = Optional.of(mount.output().strip());
                } else {
                    why = Optional.of(loop.output().strip());
                }
            }
            throw ZenithException.failed("the volume is made (" + image + ") but mounting it needs root here"
                            + why.map(w -> " (udisksctl: " + w + ")").orElse(" (no udisksctl on this machine)"),
                    "run: " + sudo + "   then: zenith init" + (target.getFileName().toString().equals(".zenith") ? "" : " --repo " + target));
        }

        /** {@code target} (an empty directory or nothing) becomes a link to where udisks mounted the volume. */
        private static void link(Path target, Path mountPoint) {
            try {
                Files.deleteIfExists(target);
                Files.createSymbolicLink(target, mountPoint);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot link " + target + " to " + mountPoint, e);
            }
        }

        private static boolean isEmpty(Path dir) throws IOException {
            try (var entries = Files.list(dir)) {
                return entries.findAny().isEmpty();
            }
        }

        private static boolean isMountPoint(Path dir) {
            return Files.isDirectory(dir) && run(List.of("mountpoint", "-q", dir.toString())).exit() == 0;
        }

        private static String fileSystemOf(Path dir) {
            try {
                return Files.getFileStore(dir).type();
            } catch (IOException e) {
                return "unknown file system";
            }
        }

        private static boolean onPath(String program) {
            String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/bin:/bin");
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                    return true;
                }
            }
            return false;
        }

        private record Result(int exit, String output) {
        }

        private static Result run(List<String> cmd) {
            try {
                Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return new Result(p.waitFor(), output);
            } catch (IOException e) {
                return new Result(127, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(130, "interrupted");
            }
        }
    }
}
