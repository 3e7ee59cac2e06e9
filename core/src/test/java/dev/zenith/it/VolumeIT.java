package dev.zenith.it;

import dev.zenith.postgres.OsUser;
import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code zenith volume create} from the installed tarball: as root an XFS with reflinks in a file, mounted where
 * the repository goes, which init then finds cloning; as a user who may not mount, the volume made and the sudo
 * command to mount it; bad sizes and occupied places refused.
 */
class VolumeIT {

    private Path dir;
    private Path zenith;
    private final List<Path> mounted = new ArrayList<>();

    @BeforeEach
    void unpack() throws Exception {
        assumeTrue(OsUser.currentUid() == 0, "mounting loop files needs root");
        assumeTrue(Mount.canMake("xfs"), "mkfs.xfs is missing (apt-get install xfsprogs)");
        dir = Files.createTempDirectory(Path.of("/tmp"), "zvol");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        run(dir, Map.of(), "tar", "xzf", System.getProperty("zenith.dist")).ok();
        try (Stream<Path> entries = Files.list(dir)) {
            zenith = entries.filter(p -> p.getFileName().toString().startsWith("zenith-")).findFirst().orElseThrow()
                    .resolve("bin/zenith");
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Path m : mounted) {
            run(dir, Map.of(), "umount", "-l", m.toString());
        }
        if (dir != null) {
            FileTrees.deleteTree(dir);
        }
    }

    @Test
    void asRootTheVolumeIsMountedWhereTheRepositoryGoesAndItClones() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        Files.setPosixFilePermissions(project, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = Map.of("XDG_DATA_HOME", dir.resolve("data").toString());
        Zenith.Result made = run(project, env, zenith.toString(), "volume", "create", "400M").ok();
        Path target = project.resolve(".zenith");
        mounted.add(target);
        Path image = dir.resolve("data/zenith/volumes").resolve(target.toString().substring(1).replace('/', '_') + ".xfs");
        assertThat(made.out()).contains("made an XFS with reflinks of up to 400.0 MiB in " + image)
                .contains("mounted at " + target).contains("next: zenith init");
        assertThat(Files.getFileStore(target).type()).isEqualTo("xfs");
        assertThat(Files.size(image)).isEqualTo(400L << 20);

        assertThat(run(project, env, zenith.toString(), "init", "--api-port", Integer.toString(Zenith.freePort()),
                "--proxy-port", Integer.toString(Zenith.freePort())).ok().out())
                .contains("new zenith repository was created in .zenith").contains("file system: xfs (copy-on-write");

        Zenith.Result again = run(project, env, zenith.toString(), "volume", "create", "400M");
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains(target + " is a mount point already (xfs)");
    }

    @Test
    void badSizesAndOccupiedDirectoriesAreRefused() throws Exception {
        Map<String, String> env = Map.of("XDG_DATA_HOME", dir.resolve("data").toString());
        Zenith.Result tooSmall = run(dir, env, zenith.toString(), "volume", "create", "10M", "vol");
        assertThat(tooSmall.exit()).isEqualTo(2);
        assertThat(tooSmall.err()).contains("invalid SIZE \"10M\": a volume takes from 300M up");
        Zenith.Result notASize = run(dir, env, zenith.toString(), "volume", "create", "lots", "vol");
        assertThat(notASize.exit()).isEqualTo(2);
        assertThat(notASize.err()).contains("invalid SIZE \"lots\"");
        Path occupied = Files.createDirectories(dir.resolve("occupied"));
        Files.writeString(occupied.resolve("notes.txt"), "mine");
        Zenith.Result full = run(dir, env, zenith.toString(), "volume", "create", "400M", "occupied");
        assertThat(full.exit()).isEqualTo(1);
        assertThat(full.err()).contains(occupied + " is not empty");
        assertThat(occupied.resolve("notes.txt")).hasContent("mine");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    /** A user who may not mount, on a machine without udisks: the volume is made, and the one sudo command named. */
    @Test
    void aUserWhoMayNotMountIsToldTheSudoCommand() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        run(dir, Map.of(), "chown", "nobody:nogroup", home.toString()).ok();
        Map<String, String> env = Map.of("HOME", home.toString(), "XDG_DATA_HOME", home.resolve("data").toString());
        Zenith.Result r = run(home, env, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                zenith.toString(), "volume", "create", "400M", "vol");
        Path image = home.resolve("data/zenith/volumes").resolve(home.resolve("vol").toString().substring(1).replace('/', '_') + ".xfs");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("the volume is made (" + image + ") but mounting it needs root here")
                .contains("run: sudo mount -o loop " + image + " " + home.resolve("vol"));
        assertThat(Files.getOwner(image).getName()).isEqualTo("nobody");

        // what the hint says works, and the user owns the volume's root
        run(dir, Map.of(), "mount", "-o", "loop", image.toString(), home.resolve("vol").toString()).ok();
        mounted.add(home.resolve("vol"));
        assertThat(Files.getOwner(home.resolve("vol")).getName()).isEqualTo("nobody");
    }

    private static Zenith.Result run(Path cwd, Map<String, String> env, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> environment = new HashMap<>(env);
        environment.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        environment.put("JAVA_HOME", "/nonexistent");
        builder.environment().remove("ZENITH_REPO_DIR");
        builder.environment().putAll(environment);
        return Zenith.run(builder, Duration.ofSeconds(300));
    }
}
