package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.model.BranchCreated;
import dev.zenith.pageserver.Offline;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The zenith branch of the checked-out git branch ({@code feature/login}: {@code feature-login}), made on
 * first use from {@code --from}, else the project's {@code git config zenith.parent}, else main.
 */
final class GitBranches {

    private GitBranches() {
    }

    /** Finds the branch, or makes it (saying so on {@code err}); returns its name. */
    static BranchName ensure(Path repoRoot, Path workingDirectory, Optional<BranchName> from, PrintWriter err) {
        GitWorkTree tree = GitWorkTree.around(workingDirectory);
        String gitBranch = tree.currentBranch();
        BranchName name = GitWorkTree.branchFor(gitBranch);
        if (Offline.open(repoRoot).hasBranch(name)) {
            return name;
        }
        BranchName parent = from.orElseGet(() -> tree.config(GitWorkTree.PARENT_KEY).map(BranchName::new).orElse(BranchName.MAIN));
        BranchCreated made = ApiClient.forRepository(repoRoot).post("/v1/branches",
                Map.of("name", name.value(), "parent", parent.value()), new TypeReference<>() { });
        err.println("made branch " + name + " from " + parent + " at " + made.lsn() + " for git branch " + gitBranch);
        err.flush();
        return name;
    }
}
