package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.IdleTimeout;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.OperationInfo;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "pg", mixinStandardHelpOptions = true,
        description = "Compute nodes: a Postgres for a branch, made from the repository by point-in-time recovery.")
final class PgCommand {

    @Spec
    CommandSpec spec;

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a compute node for a branch: its data directory, from the repository.")
    int create(@Parameters(paramLabel = "BRANCH", description = "The branch.") BranchName branch,
               @Option(names = "--name", paramLabel = "NAME", description = "Node name (default: pg1, pg2, ...).") String name,
               @Option(names = "--port", paramLabel = "PORT", description = "Port (default: the next free one from 55432).") Integer port,
               @Option(names = "--idle-timeout", paramLabel = "DURATION",
                       description = "Suspend after this long with no client (300s, 5m, 0, never); default: the repository's for on-demand starts, never for pg start") IdleTimeout idleTimeout) {
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = api();
        BranchInfo info = api.get("/v1/branches/" + branch, new TypeReference<>() { });
        out.println("Initializing Postgres on timeline " + info.timelineId() + "...");
        out.flush();
        Map<String, Object> body = new HashMap<>();
        body.put("branch", branch.value());
        body.put("name", name);
        body.put("port", port);
        body.put("idleTimeout", idleTimeout == null ? null : idleTimeout.toString());
        ComputeStatus node = Progress.around(api, spec.commandLine().getErr(), op -> op.kind().equals("create")
                && branch.value().equals(op.branch()), () -> api.post("/v1/computes", body, new TypeReference<ComputeStatus>() { }));
        printCreated(out, node);
        return 0;
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a compute node; given a branch with no node, create one first.")
    int start(@Parameters(paramLabel = "NAME|BRANCH", description = "Node or branch name.") String target,
              @Option(names = "--idle-timeout", paramLabel = "DURATION",
                      description = "Suspend after this long with no client (300s, 5m, 0, never); default: never") IdleTimeout idleTimeout,
              @Option(names = "--at", paramLabel = "LSN|TIME|TAG",
                      description = "A read-only Postgres showing BRANCH at a past point (0/16B5A50, 2026-11-24T10:15:00Z, -10m, a tag); removed after 30 s idle")
              String at) {
        PrintWriter out = spec.commandLine().getOut();
        BranchName.requireSafeName(target);
        ApiClient api = api();
        if (at != null) {
            PointInTime.parse(at, java.time.Instant.now()); // a typo is a usage error, before any call
            ComputeStatus node = api.post("/v1/computes/" + target + "/start", Map.of("at", at), new TypeReference<>() { });
            out.println("Starting read-only postgres node at 'host=" + node.host() + " port=" + node.port() + " user="
                    + superuser() + "' showing branch " + node.branch() + " at " + node.readOnlyAt());
            out.println("server started");
            out.flush();
            return 0;
        }
        List<ComputeStatus> nodes = api.get("/v1/computes", new TypeReference<>() { });
        Optional<ComputeStatus> known = nodes.stream()
                .filter(n -> n.name().equals(target) || (n.branch() != null && n.branch().value().equals(target)))
                .findFirst();
        String user = superuser();
        known.ifPresent(n -> printStarting(out, n, user));
        Map<String, Object> body = new HashMap<>();
        body.put("idleTimeout", idleTimeout == null ? null : idleTimeout.toString());
        ComputeStatus node;
        try (InterruptNotice notice = InterruptNotice.saying(spec.commandLine().getErr(), "the pageserver goes on starting "
                + target + " (zenith pg list shows it); zenith pg stop " + target + " stops it")) {
            node = Progress.around(api, spec.commandLine().getErr(), op -> (op.kind().equals("start") || op.kind().equals("create"))
                    && names(op, target), () -> api.post("/v1/computes/" + target + "/start", body, new TypeReference<ComputeStatus>() { }));
        }
        if (known.isEmpty()) {
            printCreated(out, node);
            printStarting(out, node, user);
        }
        out.println("server started");
        out.flush();
        return 0;
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a compute node cleanly.")
    int stop(@Parameters(paramLabel = "NAME|BRANCH", description = "Node or branch name.") String name,
             @Option(names = "--destroy", description = "Also remove the node and its data directory (the branch keeps its data).")
             boolean destroy) {
        PrintWriter out = spec.commandLine().getOut();
        BranchName.requireSafeName(name);
        ApiClient api = api();
        ComputeStatus node = Progress.around(api, spec.commandLine().getErr(), op -> op.kind().equals("image") && names(op, name),
                () -> api.post("/v1/computes/" + name + "/stop", Map.of("destroy", destroy), new TypeReference<ComputeStatus>() { }));
        out.println(destroy ? "node " + node.name() + " stopped and destroyed; branch " + node.branch() + " keeps its data"
                : "node " + node.name() + " stopped");
        out.flush();
        return 0;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List compute nodes.")
    int list(@Option(names = "--json", description = "Print JSON.") boolean json) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<ComputeStatus> nodes = api().get("/v1/computes", new TypeReference<List<ComputeStatus>>() { }).stream()
                .sorted(Comparator.comparing(ComputeStatus::name, Table.NATURAL)).toList();
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(nodes));
        } else {
            Table table = new Table("NODE", "ADDRESS", "BRANCH", "LSN", "STATUS", "CONNECTIONS", "IDLE", "IDLE_TIMEOUT");
            for (ComputeStatus n : nodes) {
                table.row(n.name(), n.host() + ":" + n.port(), n.readOnlyAt() == null ? n.branch() : n.branch() + "@" + n.readOnlyAt(),
                        n.lsn(), n.state(), n.connections() == null ? "-" : n.connections(),
                        n.idleSeconds() == null ? "-" : n.idleSeconds() + "s", n.idleTimeout());
            }
            table.print(out);
        }
        out.flush();
        return 0;
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "Print a compute's Postgres log (.zenith/logs/compute-NODE.log and the older .1 to .3); works with the pageserver stopped.")
    int logs(@Parameters(paramLabel = "NAME|BRANCH", description = "Node or branch name.") String target,
             @Option(names = {"-f", "--follow"}, description = "Keep printing what is appended, until Ctrl-C.") boolean follow,
             @Option(names = {"-n", "--tail"}, paramLabel = "LINES", description = "Only the last LINES lines (default: all).")
             Integer tail) throws IOException {
        Path file = Offline.open(Main.repoRoot(spec)).computeLog(target);
        return LogTail.run(file, tail, follow, spec.commandLine().getOut());
    }

    /** Whether an operation is about the node or branch the user named. */
    private static boolean names(OperationInfo op, String nameOrBranch) {
        return nameOrBranch.equals(op.compute()) || nameOrBranch.equals(op.branch());
    }

    private ApiClient api() {
        return ApiClient.forRepository(Main.repoRoot(spec));
    }

    private void printCreated(PrintWriter out, ComputeStatus node) {
        out.println("Extracting base backup to create postgres instance: path=" + Main.display(spec, node.dataDir())
                + " port=" + node.port());
        out.flush();
    }

    private static void printStarting(PrintWriter out, ComputeStatus node, String user) {
        out.println("Starting postgres node at 'host=" + node.host() + " port=" + node.port() + " user=" + user + "'");
        out.flush();
    }

    private String superuser() {
        return Offline.open(Main.repoRoot(spec)).config().superuser();
    }
}
