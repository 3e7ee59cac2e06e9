package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.ConnectionString;
import dev.zenith.Json;
import dev.zenith.model.DaemonStatus;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "connstr", mixinStandardHelpOptions = true,
        description = "Print how to connect to a branch through the proxy: for psql, JDBC, node-postgres and Neon's serverless driver.")
final class ConnstrCommand implements Callable<Integer> {

    enum Format { all, uri, psql, jdbc, node, neon }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", arity = "0..1", description = "The branch (default: main).")
    BranchName branch;

    @Option(names = "--git", description = "The branch of the checked-out git branch, made on first use (see zenith branch --git).")
    boolean git;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "all",
            description = "Only one form, for scripts: uri, psql, jdbc, node or neon (default: all, labelled).")
    Format format;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        BranchName target = target(spec, branch, git); // first: it may make the branch
        Offline repository = Offline.open(Main.repoRoot(spec));
        ConnectionString c = forBranch(repository, target);
        Map<String, String> forms = new LinkedHashMap<>();
        forms.put("uri", c.uri());
        forms.put("psql", "psql \"" + c.uri() + "\"");
        forms.put("jdbc", c.jdbc());
        forms.put("node", c.nodePostgres());
        forms.put("neon", repository.config().proxyTls() ? c.neonOverTls() : c.neon());
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(forms));
        } else if (format != Format.all) {
            out.println(forms.get(format.name()));
        } else {
            out.println("psql:          " + forms.get("psql"));
            out.println("JDBC:          " + forms.get("jdbc"));
            out.println("node-postgres: " + forms.get("node"));
            out.println("URI:           " + forms.get("uri"));
            out.println("Neon driver:   " + forms.get("neon").replace("\n", "\n               "));
        }
        out.flush();
        return 0;
    }

    /** The branch a command names: {@code branch}, the git branch's with {@code --git}, else main. */
    static BranchName target(CommandSpec spec, BranchName branch, boolean git) {
        if (git && branch != null) {
            throw new IllegalArgumentException("--git names the branch after the git branch: leave out " + branch);
        }
        if (git) {
            return GitBranches.ensure(Main.repoRoot(spec), Main.workingDirectory(spec), Optional.empty(), spec.commandLine().getErr());
        }
        return branch == null ? BranchName.MAIN : branch;
    }

    /**
     * A branch's connection string, with the proxy port in force: the running daemon's (which
     * {@code pageserver start --proxy-port} may have changed), else the repository's.
     */
    static ConnectionString forBranch(Offline repository, BranchName branch) {
        repository.requireBranch(branch);
        int port = ApiClient.runningStatus(repository.root()).map(DaemonStatus::proxyPort).orElse(repository.config().proxyPort());
        return ConnectionString.of(repository.config().proxyAddress(), port, repository.config().superuser(), branch);
    }
}
