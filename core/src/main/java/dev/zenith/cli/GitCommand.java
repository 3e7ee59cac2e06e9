package dev.zenith.cli;

import dev.zenith.AtomicFiles;
import dev.zenith.ZenithException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

@Command(name = "git", mixinStandardHelpOptions = true,
        description = "A database branch for every git branch: a post-checkout hook that makes it as you check out.",
        subcommands = {GitCommand.InstallHook.class, GitCommand.UninstallHook.class})
final class GitCommand {

    /** Our lines in a hook, between these markers: git runs one post-checkout file, which may hold other tools' lines. */
    static final String BEGIN = "# >>> zenith: a database branch per git branch (zenith git uninstall-hook removes this) >>>";
    static final String END = "# <<< zenith <<<";
    private static final String HOOK = "post-checkout";

    @Command(name = "install-hook", mixinStandardHelpOptions = true,
            description = {"Add a post-checkout hook: checking out a git branch makes (or finds) its zenith branch,",
                    "and with --env-file points DATABASE_URL there. An existing hook is kept; ours is added beside it."})
    static final class InstallHook implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--env-file", paramLabel = "FILE", description = "The dotenv file to keep pointing at the branch (.env).")
        String envFile;

        @Override
        public Integer call() {
            GitWorkTree tree = GitWorkTree.around(Main.workingDirectory(spec));
            Path hook = tree.hooksDir().resolve(HOOK);
            String existing = read(hook);
            String kept = withoutOurs(existing);
            String body = kept.isBlank() ? "#!/bin/sh\n" : kept.endsWith("\n") ? kept : kept + "\n";
            write(hook, body + block(Main.repoRoot(spec)));
            spec.commandLine().getOut().println((existing.contains(BEGIN) ? "updated" : "installed") + " zenith's lines in " + hook
                    + (kept.isBlank() || existing.contains(BEGIN) ? "" : " (beside the hook that was there)"));
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** Runs zenith on a branch checkout (git passes 1 as the third argument); a failure never fails the checkout. */
        private String block(Path repoRoot) {
            String launcher = System.getProperty("zenith.launcher", "zenith");
            String command = quote(launcher) + " --repo " + quote(repoRoot.toString()) + " branch --git"
                    + (envFile == null ? "" : " --env-file " + quote(envFile));
            return BEGIN + "\n"
                    + "if [ \"$3\" = 1 ]; then\n"
                    + "  " + command + " >/dev/null || echo \"zenith: no database branch for this git branch (is the pageserver running?)\" >&2\n"
                    + "fi\n"
                    + END + "\n";
        }
    }

    @Command(name = "uninstall-hook", mixinStandardHelpOptions = true,
            description = "Remove zenith's lines from the post-checkout hook, and nothing else.")
    static final class UninstallHook implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Path hook = GitWorkTree.around(Main.workingDirectory(spec)).hooksDir().resolve(HOOK);
            String existing = read(hook);
            if (!existing.contains(BEGIN)) {
                throw ZenithException.notFound("the post-checkout hook " + hook + " has no zenith lines", "nothing to remove");
            }
            String kept = withoutOurs(existing);
            if (kept.strip().equals("#!/bin/sh") || kept.isBlank()) {
                Files.delete(hook);
                spec.commandLine().getOut().println("removed " + hook + " (it held only zenith's lines)");
            } else {
                write(hook, kept);
                spec.commandLine().getOut().println("removed zenith's lines from " + hook + "; the rest of the hook stays");
            }
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** {@code hook} without our block. */
    static String withoutOurs(String hook) {
        int begin = hook.indexOf(BEGIN);
        if (begin < 0) {
            return hook;
        }
        int end = hook.indexOf(END, begin);
        int after = end < 0 ? hook.length() : Math.min(hook.length(), end + END.length() + 1);
        return hook.substring(0, begin) + hook.substring(after);
    }

    private static String read(Path hook) {
        try {
            return Files.exists(hook) ? Files.readString(hook, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + hook, e);
        }
    }

    private static void write(Path hook, String content) {
        try {
            Files.createDirectories(hook.getParent());
            AtomicFiles.write(hook, content.getBytes(StandardCharsets.UTF_8));
            Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + hook, e);
        }
    }

    /** A word for the shell, whatever it holds. */
    private static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
