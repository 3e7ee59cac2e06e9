package dev.zenith.it;

import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tarball {@code ./mvnw package} makes, unpacked with tar and used through its {@code bin/zenith} as
 * an installed copy is: init, start, a branch, a connection through the proxy, stop. Runs after
 * packaging (failsafe), so it tests the archive users download, not the build tree. No Java is on the
 * commands' PATH and JAVA_HOME names none: the daemon must run on the tarball's own runtime.
 */
class DistributionIT {

    @Test
    void theTarballRunsZenithFromAnyDirectory() throws Exception {
        Path tarball = Path.of(System.getProperty("zenith.dist"));
        assertThat(tarball).exists();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "zdist");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path work = Files.createDirectory(dir.resolve("project"));
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            run(dir, "tar", "xzf", tarball.toString());
            Path home;
            try (var entries = Files.list(dir)) {
                home = entries.filter(p -> p.getFileName().toString().startsWith("zenith-")).findFirst().orElseThrow();
            }
            Path zenith = home.resolve("bin/zenith");
            assertThat(Files.isExecutable(zenith)).isTrue();
            assertThat(run(work, zenith.toString(), "--version")).startsWith("zenith " + home.getFileName().toString().substring(7));

            int api = Zenith.freePort();
            int proxy = Zenith.freePort();
            assertThat(home.resolve("runtime/bin/java")).isExecutable();
            run(work, zenith.toString(), "init", "--api-port", Integer.toString(api), "--proxy-port", Integer.toString(proxy),
                    "--compute-port-base", Integer.toString(20000 + (int) (Math.random() * 12000)),
                    "--proxy-socket-dir", work.toString());
            try {
                run(work, zenith.toString(), "pageserver", "start");
                String pid = Files.readString(work.resolve(".zenith/pageserver.pid")).strip();
                assertThat(Path.of("/proc", pid, "exe").toRealPath()).as("the daemon's Java")
                        .isEqualTo(home.resolve("runtime/bin/java").toRealPath());
                run(work, zenith.toString(), "branch", "fromtarball", "main");
                String jdbc = run(work, zenith.toString(), "connstr", "fromtarball", "--format", "jdbc").strip();
                try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 6 * 7")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
            } finally {
                run(work, zenith.toString(), "pageserver", "stop");
            }
        } finally {
            dev.zenith.storage.FileTrees.deleteTree(dir);
        }
    }

    /** Runs a program in {@code dir}; returns its output, failing the test on a non-zero exit. */
    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().put("PATH", "/usr/bin:/bin"); // Debian's java, if any, is 17: too old for zenith
        builder.environment().put("JAVA_HOME", "/nonexistent");
        Zenith.Result r = Zenith.run(builder, Duration.ofSeconds(300));
        assertThat(r.exit()).as("%s exited with output:%n%s", String.join(" ", command), r.out()).isZero();
        return r.out();
    }
}
