package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.ConnectionString;
import dev.zenith.Json;
import dev.zenith.api.model.DaemonStatus;
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
import java.util.concurrent.Callable;

@Command(name = "connstr", mixinStandardHelpOptions = true,
        description = "Print how to connect to a branch through the proxy: for psql, JDBC and node-postgres.")
final class ConnstrCommand implements Callable<Integer> {

    enum Format { all, uri, psql, jdbc, node }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", defaultValue = "main", description = "The branch (default: main).")
    BranchName branch;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "all",
            description = "Only one form, for scripts: uri, psql, jdbc or node (default: all, labelled).")
    Format format;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ConnectionString c = forBranch(Offline.open(Main.repoRoot(spec)), branch);
        Map<String, String> forms = new LinkedHashMap<>();
        forms.put("uri", c.uri());
        forms.put("psql", "psql \"" + c.uri() + "\"");
        forms.put("jdbc", c.jdbc());
        forms.put("node", c.nodePostgres());
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(forms));
        } else if (format != Format.all) {
            out.println(forms.get(format.name()));
        } else {
            out.println("psql:          " + forms.get("psql"));
            out.println("JDBC:          " + forms.get("jdbc"));
            out.println("node-postgres: " + forms.get("node"));
            out.println("URI:           " + forms.get("uri"));
        }
        out.flush();
        return 0;
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
