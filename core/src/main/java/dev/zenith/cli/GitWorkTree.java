package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The git work tree a command runs in, read through the user's own {@code git}, so worktrees,
 * {@code core.hooksPath} and configuration mean what they mean to git.
 */
final class GitWorkTree {

    /** Where a project names the parent of the branches made for its git branches: {@code git config zenith.parent NAME}. */
    static final String PARENT_KEY = "zenith.parent";

    private final Path root;

    private GitWorkTree(Path root) {
        this.root = root;
    }

    /** The work tree around {@code cwd}; outside one, an error saying so. */
    static GitWorkTree around(Path cwd) {
        Git top = git(cwd, "rev-parse", "--show-toplevel");
        if (top.exit() != 0) {
            throw ZenithException.badRequest("--git needs a git work tree, and " + cwd + " is not in one ("
                    + top.output().strip() + "): run it in your project's checkout, or name the branch instead");
        }
        return new GitWorkTree(Path.of(top.output().strip()));
    }

    Path root() {
        return root;
    }

    /** The checked-out git branch; a detached HEAD is an error saying what to do. */
    String currentBranch() {
        Git head = git(root, "symbolic-ref", "--quiet", "--short", "HEAD");
        if (head.exit() != 0) {
            throw ZenithException.badRequest("HEAD is detached in " + root + ", so there is no git branch to name a database"
                    + " branch after: check out a branch (git switch -c NAME), or name the zenith branch instead");
        }
        return head.output().strip();
    }

    /** The zenith branch for the checked-out git branch. */
    BranchName branch() {
        return branchFor(currentBranch());
    }

    /**
     * The zenith branch named after a git branch: every character a branch name cannot hold becomes '-'
     * ({@code feature/login} is {@code feature-login}); a result that is still no valid name is refused
     * with the rule.
     */
    static BranchName branchFor(String gitBranch) {
        String name = gitBranch.replaceAll("[^A-Za-z0-9_-]", "-");
        if (!BranchName.isSafeName(name)) {
            throw ZenithException.badRequest("the git branch \"" + BranchName.printable(gitBranch) + "\" becomes \""
                    + BranchName.printable(name) + "\", which is no branch name: names use 1 to 63 letters, digits, '_' or '-',"
                    + " starting with a letter or digit; name the zenith branch yourself instead");
        }
        return new BranchName(name);
    }

    /** A value of the work tree's git configuration. */
    Optional<String> config(String key) {
        Git value = git(root, "config", "--get", key);
        return value.exit() == 0 && !value.output().isBlank() ? Optional.of(value.output().strip()) : Optional.empty();
    }

    /** Where git looks for this work tree's hooks. */
    Path hooksDir() {
        Git path = git(root, "rev-parse", "--git-path", "hooks");
        if (path.exit() != 0) {
            throw ZenithException.failed("git cannot say where the hooks of " + root + " are: " + path.output().strip(),
                    "check the repository with git status");
        }
        return root.resolve(path.output().strip()).normalize();
    }

    private record Git(int exit, String output) {
    }

    private static Git git(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Git(process.waitFor(), output);
        } catch (IOException e) {
            throw ZenithException.failed("git is not installed (or not on the PATH)",
                    "install git, or name the zenith branch instead of using --git");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted while asking git", "run the command again");
        }
    }
}
