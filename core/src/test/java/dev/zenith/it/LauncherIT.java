package dev.zenith.it;

import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The installed launcher, bin/zenith from the tarball: the commands that only talk to the daemon are run by
 * the daemon (no JVM) and say, print and exit exactly as in a JVM of their own, in the client's working
 * directory; everything else, and everything when no daemon answers, still runs in a JVM; and the start-up
 * cache is made in the background and made again when stale, never an error.
 */
class LauncherIT {

    private static Path dir;
    private static Path home;
    private static Path project;

    @BeforeAll
    static void unpack() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "zlaunch");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        project = Files.createDirectories(dir.resolve("project"));
        Files.setPosixFilePermissions(project, PosixFilePermissions.fromString("rwxr-xr-x"));
        run(dir, Map.of(), "tar", "xzf", System.getProperty("zenith.dist")).ok();
        try (Stream<Path> entries = Files.list(dir)) {
            home = entries.filter(p -> p.getFileName().toString().startsWith("zenith-")).findFirst().orElseThrow();
        }
        zenith(project, Map.of(), "init", "--api-port", Integer.toString(Zenith.freePort()), "--proxy-port",
                Integer.toString(Zenith.freePort()), "--compute-port-base", Integer.toString(20000 + (int) (Math.random() * 12000)),
                "--proxy-socket-dir", project.toString()).ok();
        zenith(project, Map.of(), "pageserver", "start").ok();
    }

    @AfterAll
    static void stop() throws Exception {
        if (project != null && Files.exists(project.resolve(".zenith/pageserver.pid"))) {
            zenith(project, Map.of(), "pageserver", "stop");
        }
        FileTrees.deleteTree(dir);
    }

    @Test
    void theDaemonRunsWhatOnlyTalksToItAndItSaysTheSameAsAJvm() throws Exception {
        Path below = Files.createDirectories(project.resolve("src/app"));
        assertThat(zenith(below, Map.of(), "branch", "served", "main").ok().out()).startsWith("branching at end of WAL: ");
        assertThat(daemonLog()).contains("ran `zenith branch served main` for a client");

        Zenith.Result again = zenith(below, Map.of(), "branch", "served", "main");
        Zenith.Result againInAJvm = zenith(below, inAJvm(), "branch", "served", "main");
        assertThat(again.exit()).isEqualTo(1).isEqualTo(againInAJvm.exit());
        assertThat(again.err()).contains("branch \"served\" already exists").isEqualTo(againInAJvm.err());
        assertThat(again.out()).isEmpty();

        Zenith.Result badName = zenith(below, Map.of(), "branch", "no good", "main");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err()).isEqualTo(zenith(below, inAJvm(), "branch", "no good", "main").err());

        assertThat(zenith(below, Map.of(), "branch").ok().out())
                .contains("served").isEqualTo(zenith(below, inAJvm(), "branch").ok().out());
        assertThat(zenith(below, Map.of(), "connstr", "served", "--format", "jdbc").ok().out())
                .isEqualTo(zenith(below, inAJvm(), "connstr", "served", "--format", "jdbc").ok().out());
        // the repository named the other two ways, relative to the client's working directory
        assertThat(zenith(dir, Map.of(), "--repo", "project/.zenith", "status").ok().out()).contains("repository:  project/.zenith");
        assertThat(zenith(dir, Map.of("ZENITH_REPO_DIR", "project/.zenith"), "tag").exit()).isZero();
        assertThat(daemonLog()).contains("ran `zenith --repo project/.zenith status` for a client", "ran `zenith tag` for a client");
        // a log's first page is served; a whole log streams from a JVM
        assertThat(zenith(below, Map.of(), "log", "main", "-n", "5", "--json").ok().out())
                .isEqualTo(zenith(below, inAJvm(), "log", "main", "-n", "5", "--json").ok().out());
        assertThat(daemonLog()).contains("ran `zenith log main -n 5 --json` for a client");
        zenith(below, Map.of(), "log", "main").ok();
        assertThat(daemonLog()).doesNotContain("ran `zenith log main` for a client");
        Zenith.Result diff = zenith(below, Map.of(), "diff", "main", "served", "--data");
        assertThat(diff.exit()).as(diff.err()).isZero();
        assertThat(diff.out()).isEqualTo(zenith(below, inAJvm(), "diff", "main", "served", "--data").out());
        assertThat(daemonLog()).contains("ran `zenith diff main served --data` for a client");
    }

    @Test
    void theGitHookMakesItsBranchWhereTheClientIs() throws Exception {
        Path checkout = Files.createDirectories(dir.resolve("checkout"));
        run(checkout, Map.of(), "git", "init", "-q", "-b", "feature/login").ok();
        Zenith.Result r = zenith(checkout, Map.of("ZENITH_REPO_DIR", project.resolve(".zenith").toString()),
                "branch", "--git", "--env-file", ".env").ok();
        assertThat(r.out()).contains("feature-login");
        assertThat(Files.readString(checkout.resolve(".env"))).contains("DATABASE_URL=").contains("feature-login");
        assertThat(daemonLog()).contains("ran `zenith branch --git --env-file .env` for a client");
    }

    @Test
    void whatTheDaemonDoesNotRunAndAStoppedDaemonLeaveItToAJvm() throws Exception {
        assertThat(zenith(project, Map.of(), "pg", "list").ok().out()).contains("BRANCH");
        Path other = Files.createDirectories(dir.resolve("elsewhere"));
        Zenith.Result noRepository = zenith(other, Map.of(), "branch");
        assertThat(noRepository.exit()).isEqualTo(1);
        assertThat(noRepository.err()).contains("no repository in " + other.resolve(".zenith"));
        assertThat(daemonLog()).doesNotContain("`zenith pg list`");
    }

    @Test
    void theStartUpCacheIsMadeInTheBackgroundAndMadeAgainWhenStale() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Map<String, String> env = Map.of("ZENITH_CACHE_DIR", cache.toString());
        assertThat(zenith(project, env, "--version").ok().err()).isEmpty();
        Zenith.waitFor(Duration.ofSeconds(120), () -> cacheFile(cache) != null, "the start-up cache to be made");
        Path made = cacheFile(cache);
        if (made.toString().endsWith(".aot")) {
            assertThat(usable(made)).as("the JVM maps the cache").isTrue();
        }

        // garbage where the cache was: ignored without a word
        Files.write(made, new byte[] {1, 2, 3});
        Files.setLastModifiedTime(made, FileTime.from(Instant.now()));
        Zenith.Result withGarbage = zenith(project, env, "--version").ok();
        assertThat(withGarbage.err()).isEmpty();
        assertThat(withGarbage.out()).startsWith("zenith ");

        // a jar newer than the cache: made again
        Files.setLastModifiedTime(home.resolve("lib/zenith.jar"), FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(zenith(project, env, "--version").ok().err()).isEmpty();
        Zenith.waitFor(Duration.ofSeconds(120), () -> sizeOf(made) > 3 && !Files.exists(Path.of(made + ".lock")),
                "the stale start-up cache to be made again");
        if (made.toString().endsWith(".aot")) {
            assertThat(usable(made)).as("the JVM maps the cache made again").isTrue();
        }
    }

    private static Path cacheFile(Path cache) {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(f -> f.toString().endsWith(".aot") || f.toString().endsWith(".jsa")).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The cache loads in strict mode, which refuses to run with one it cannot map. */
    private static boolean usable(Path aot) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("runtime/bin/java").toString(), "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED", "-XX:AOTMode=on", "-XX:AOTCache=" + aot,
                "-cp", home.resolve("lib") + "/*", "dev.zenith.cli.Main", "--version"));
        return run(project, Map.of(), cmd.toArray(String[]::new)).exit() == 0;
    }

    private static Map<String, String> inAJvm() {
        return Map.of("ZENITH_IN_DAEMON", "never");
    }

    private static String daemonLog() throws IOException {
        return Files.readString(project.resolve(".zenith/logs/pageserver.log"));
    }

    private static Zenith.Result zenith(Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/zenith").toString()));
        cmd.addAll(List.of(args));
        return run(cwd, env, cmd.toArray(String[]::new));
    }

    /** Runs a program in {@code cwd} with no Java on its PATH, as DistributionIT does. */
    private static Zenith.Result run(Path cwd, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> environment = new HashMap<>(env);
        environment.put("PATH", "/usr/bin:/bin");
        environment.put("JAVA_HOME", "/nonexistent");
        builder.environment().remove("ZENITH_REPO_DIR");
        builder.environment().putAll(environment);
        return Zenith.run(builder, Duration.ofSeconds(300));
    }
}
