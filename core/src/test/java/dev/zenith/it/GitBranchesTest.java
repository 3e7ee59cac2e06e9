package dev.zenith.it;

import dev.zenith.cli.Main;
import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A database branch per git branch, with a real git in a temporary repository and zenith run inside it. */
class GitBranchesTest {

    @Test
    void eachGitBranchGetsItsDatabaseBranchByCommandAndByHook() throws Exception {
        Path work = Files.createTempDirectory(Path.of("/tmp"), "zt-git");
        try (Zenith z = Zenith.started()) {
            z.execute(z.start("main"), "CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)");
            git(work, "init", "-q", "-b", "main");
            git(work, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-q", "--allow-empty", "-m", "init");
            Path launcher = launcher(work);

            assertThat(zenith(z, work, launcher, "branch", "--git").ok().out().strip()).as("git main is zenith main").isEqualTo("main");

            git(work, "checkout", "-q", "-b", "feature/login");
            Zenith.Result uri = zenith(z, work, launcher, "connstr", "--git", "--format", "uri").ok();
            assertThat(uri.out()).contains("options=branch%3Dfeature-login");
            assertThat(uri.err()).contains("made branch feature-login from main at ").contains("for git branch feature/login");
            Zenith.Result psql = zenith(z, work, launcher, "psql", "--git", "--", "-Atc", "SELECT count(*) FROM t").ok();
            assertThat(psql.out().strip()).as("the branch has main's rows").isEqualTo("1");
            assertThat(psql.err()).as("found, not made again").doesNotContain("made branch");

            // a hook another tool installed stays; ours goes beside it
            Path hook = work.resolve(".git/hooks/post-checkout");
            Files.writeString(hook, "#!/bin/sh\necho other-tool >> \"$(git rev-parse --show-toplevel)/.hooklog\"\n");
            Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(work.resolve(".env"), "# settings\nFOO=bar\nDATABASE_URL=postgresql://old\n");
            Files.setPosixFilePermissions(work.resolve(".env"), PosixFilePermissions.fromString("rw-------"));
            assertThat(zenith(z, work, launcher, "git", "install-hook", "--env-file", ".env").ok().out())
                    .contains("(beside the hook that was there)");

            git(work, "checkout", "-q", "-b", "bugfix/123");
            assertThat(z.branches().keySet()).contains("bugfix-123");
            String env = Files.readString(work.resolve(".env"));
            assertThat(env).contains("# settings\nFOO=bar\n").contains("DATABASE_URL=postgresql://")
                    .contains("options=branch%3Dbugfix-123").doesNotContain("postgresql://old");
            assertThat(Files.readString(work.resolve(".hooklog"))).contains("other-tool");
            // the hook's own command, with the env file named as the README names it (no directory part)
            Zenith.Result again = zenith(z, work, launcher, "branch", "--git", "--env-file", ".env");
            assertThat(again.exit()).as(again.err()).isZero();
            assertThat(again.err()).doesNotContain("bug");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve(".env")))).as("its mode kept")
                    .isEqualTo("rw-------");
            git(work, "checkout", "-q", "feature/login");
            assertThat(Files.readString(work.resolve(".env"))).contains("options=branch%3Dfeature-login");

            assertThat(zenith(z, work, launcher, "git", "uninstall-hook").ok().out()).contains("the rest of the hook stays");
            assertThat(Files.readString(hook)).contains("other-tool").doesNotContain("zenith");

            git(work, "checkout", "-q", "-b", "_wip");
            Zenith.Result invalid = zenith(z, work, launcher, "branch", "--git");
            assertThat(invalid.exit()).isEqualTo(2);
            assertThat(invalid.err()).contains("the git branch \"_wip\" becomes \"_wip\", which is no branch name");
            git(work, "checkout", "-q", "--detach");
            Zenith.Result detached = zenith(z, work, launcher, "connstr", "--git");
            assertThat(detached.exit()).isEqualTo(2);
            assertThat(detached.err()).contains("HEAD is detached");
            Zenith.Result outside = zenith(z, z.dir(), launcher, "branch", "--git");
            assertThat(outside.exit()).isEqualTo(2);
            assertThat(outside.err()).contains("is not in one");
        } finally {
            FileTrees.deleteTree(work);
        }
    }

    /** What the hook runs as zenith: this build, as the launchers would run it. */
    private static Path launcher(Path dir) throws IOException {
        Path script = dir.resolve(".git/zenith-under-test");
        Files.writeString(script, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' -cp '"
                + System.getProperty("java.class.path") + "' " + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** zenith run in {@code dir}, as a user's shell there would. */
    private static Zenith.Result zenith(Zenith z, Path dir, Path launcher, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dzenith.launcher=" + launcher, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--repo", z.repo().toString()));
        cmd.addAll(List.of(args));
        return Zenith.run(new ProcessBuilder(cmd).directory(dir.toFile()), Duration.ofSeconds(120));
    }

    private static void git(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
        cmd.addAll(List.of(args));
        Zenith.Result r = Zenith.run(new ProcessBuilder(cmd), Duration.ofSeconds(120));
        assertThat(r.exit()).as("git %s: %s", String.join(" ", args), r.err()).isZero();
    }
}
