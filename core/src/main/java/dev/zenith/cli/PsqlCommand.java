package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.ZenithException;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "psql", mixinStandardHelpOptions = true,
        description = {"Run psql on a branch through the proxy (its compute starts on demand).",
                "Arguments after -- go to psql: zenith psql feature -- -c 'select 1'; zenith psql --git -- -c 'select 1'"})
final class PsqlCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "BRANCH", description = "The branch (default: main).")
    String named;

    @Parameters(index = "1..*", paramLabel = "PSQL_ARGS", description = "Passed to psql, after --.")
    List<String> psqlArgs = new ArrayList<>();

    @Option(names = "--git", description = "The branch of the checked-out git branch, made on first use (see zenith branch --git).")
    boolean git;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (named != null && (git || !namedBeforeDashes())) {
            psqlArgs.add(0, named); // with --git, or nothing before --, every argument is psql's
            named = null;
        }
        BranchName branch = ConnstrCommand.target(spec, named == null ? null : BranchName.of(named), git);
        Offline repository = Offline.open(Main.repoRoot(spec));
        String connection = ConnstrCommand.forBranch(repository, branch).uri();
        List<String> command = new ArrayList<>(List.of("psql", connection));
        command.addAll(psqlArgs);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        if (repository.config().passwordAuth() && System.getenv("PGPASSWORD") == null) {
            repository.password().ifPresent(p -> builder.environment().put("PGPASSWORD", p));
        }
        Process process;
        try {
            process = builder.start(); // looked up on the PATH, as a shell would
        } catch (IOException e) {
            throw ZenithException.failed("psql is not installed (or not on the PATH)",
                    "install it with apt-get install postgresql-client (Debian, Ubuntu), dnf install postgresql (Fedora) or "
                            + "brew install libpq (macOS), or connect with any client: zenith connstr " + branch);
        }
        return process.waitFor();
    }

    /**
     * Whether BRANCH was given before {@code --}: picocli takes the first word after {@code --} as BRANCH when
     * none came before it ({@code zenith psql -- -c 'select 1'}), which belongs to psql.
     */
    private boolean namedBeforeDashes() {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        int dashes = args.indexOf("--");
        return dashes < 0 || args.subList(0, dashes).contains(named);
    }
}
