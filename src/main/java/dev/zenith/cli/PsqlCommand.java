package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "psql", mixinStandardHelpOptions = true,
        description = {"Run psql on a branch through the proxy (its compute starts on demand).",
                "Arguments after -- go to psql: zenith psql feature -- -c 'select 1'"})
final class PsqlCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BRANCH", defaultValue = "main", description = "The branch (default: main).")
    BranchName branch;

    @Parameters(index = "1..*", paramLabel = "PSQL_ARGS", description = "Passed to psql, after --.")
    List<String> psqlArgs = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path root = Main.repoRoot(spec);
        String connection = ConnstrCommand.forBranch(root, branch).uri();
        Path psql = findOnPath("psql").orElseThrow(() -> ZenithException.failed("psql is not installed",
                "install it with apt-get install postgresql-client (Debian, Ubuntu), dnf install postgresql (Fedora) or "
                        + "brew install libpq (macOS), or connect with any client: zenith connstr " + branch));
        List<String> command = new ArrayList<>(List.of(psql.toString(), connection));
        command.addAll(psqlArgs);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        Repository repository = Repository.open(root);
        if (repository.config().passwordAuth() && System.getenv("PGPASSWORD") == null) {
            repository.password().ifPresent(p -> builder.environment().put("PGPASSWORD", p));
        }
        Process process = builder.start();
        return process.waitFor();
    }

    private static Optional<Path> findOnPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
