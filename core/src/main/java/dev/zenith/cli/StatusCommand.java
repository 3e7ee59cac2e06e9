package dev.zenith.cli;

import dev.zenith.Json;
import dev.zenith.RepositoryConfig;
import dev.zenith.model.SpareStatus;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.OperationInfo;
import dev.zenith.model.DaemonStatus;
import dev.zenith.model.FileSystemInfo;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the repository, the pageserver, the PostgreSQL binaries and the running computes.")
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    /** {@code xfs (copy-on-write: ...)}: the kind, and what a started branch costs there. */
    static String describe(FileSystemInfo fs) {
        return fs.type() + " (" + fs.branchCost(Bytes.human(fs.imageBytes())) + ")";
    }

    /** The spare copies and, where each is a written copy, the budget they keep to and where it is set. */
    static String spares(SpareStatus spares) {
        if (spares.budgetBytes() != null && spares.budgetBytes() == 0) {
            return "none (spareDiskMb is -1 in config.json)";
        }
        String ready = Counts.of(spares.ready(), "copy", "copies") + " of images ready for new branches";
        if (spares.budgetBytes() == null) {
            return ready + " (clones: next to no disk)";
        }
        return ready + ", " + Bytes.human(spares.bytes()) + " of a " + Bytes.human(spares.budgetBytes())
                + " budget (spareDiskMb in config.json: 0 is a tenth of the free space, -1 none)";
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path root = Main.repoRoot(spec);
        Offline repository = Offline.open(root);
        DaemonStatus daemon = ApiClient.runningStatus(root).orElse(null);
        if (json) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("repository", root.toString());
            all.put("running", daemon != null);
            all.put("pageserver", daemon);
            all.put("fileSystem", repository.fileSystem());
            out.println(Json.MAPPER.writeValueAsString(all));
            out.flush();
            return 0;
        }
        out.println("repository:  " + Main.display(spec, root) + " (" + Counts.of(repository.branchCount(), "branch", "branches") + ")");
        out.println("file system: " + describe(repository.fileSystem()));
        if (daemon == null) {
            out.println("pageserver:  not running (zenith pageserver start)");
            int major = repository.config().pgVersion() == 0 ? RepositoryConfig.BUNDLED_PG_VERSION : repository.config().pgVersion();
            out.println("postgres:    PostgreSQL " + major + (repository.config().pgBin() == null ? " (zenith's own)"
                    : " in " + repository.config().pgBin()));
        } else {
            out.println("pageserver:  running (pid " + daemon.pid() + ") at '" + daemon.api() + "'");
            out.println("proxy:       " + String.join(", ", daemon.proxy()));
            out.println("postgres:    PostgreSQL " + daemon.postgresVersion() + " in " + daemon.postgresBin()
                    + ", runs as OS user " + daemon.osUser() + ", superuser " + daemon.superuser());
            out.println("computes:    " + daemon.computes().size() + " running");
            for (ComputeStatus c : daemon.computes()) {
                out.println("  " + c.name() + "  " + c.host() + ":" + c.port() + "  branch " + c.branch() + "  pid " + c.pid());
            }
            out.println("spares:      " + spares(daemon.spares()));
            List<BranchInfo> followed = ApiClient.forRepository(root).get("/v1/branches",
                    new com.fasterxml.jackson.core.type.TypeReference<List<BranchInfo>>() { }).stream()
                    .filter(b -> b.following() != null).toList();
            for (BranchInfo b : followed) {
                out.println("follows:     " + b.name() + " <- " + b.following().source() + ", "
                        + BranchCommand.following(b.following()).replaceFirst("^following: ", ""));
            }
            List<OperationInfo> operations = Progress.operations(ApiClient.forRepository(root));
            if (!operations.isEmpty()) {
                out.println("operations:  " + operations.size() + " under way");
                for (OperationInfo op : operations) {
                    out.println("  " + Progress.line(op, 0));
                }
            }
        }
        out.flush();
        return 0;
    }
}
