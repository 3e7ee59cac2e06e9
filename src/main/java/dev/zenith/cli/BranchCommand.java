package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.api.ApiServer.BranchInfo;
import dev.zenith.compute.Computes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "branch", mixinStandardHelpOptions = true,
        description = {"Create a branch at the end of its parent's WAL (copies no data),",
                "or with no NAME, show the tree of branches."})
final class BranchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Name of the new branch.")
    BranchName name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PARENT", description = "Branch to branch from (default: main).")
    BranchName parent;

    @Option(names = "--at", paramLabel = "LSN|TIME",
            description = {"Branch at a past point of PARENT: an LSN (0/16B5A50), a time with its zone",
                    "(2026-11-24T10:15:00Z) or a relative time (-10m, -2h)."})
    String at;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        if (name == null) {
            List<BranchInfo> branches = api.get("/v1/branches", new TypeReference<>() { });
            out.print(json ? Json.MAPPER.writeValueAsString(branches) + "\n" : tree(branches));
            out.flush();
            return 0;
        }
        Map<String, String> body = new java.util.HashMap<>(
                Map.of("name", name.value(), "parent", (parent == null ? BranchName.MAIN : parent).value()));
        if (at != null) {
            PointInTime.parse(at, java.time.Instant.now()); // a typo is a usage error, before any call
            body.put("at", at);
        }
        Computes.BranchPoint point = api.post("/v1/branches", body, new TypeReference<>() { });
        out.println(json ? Json.MAPPER.writeValueAsString(point)
                : (at == null ? "branching at end of WAL: " : "branching at LSN: ") + point.lsn());
        out.flush();
        return 0;
    }

    /** The tree as neon_local draws it: {@code ┣━ @0/16F9A00: migration_check}. */
    static String tree(List<BranchInfo> branches) {
        StringBuilder sb = new StringBuilder();
        List<BranchInfo> roots = branches.stream().filter(b -> b.parent() == null).toList();
        for (BranchInfo root : roots) {
            sb.append(root.name()).append(" [").append(root.timelineId()).append("]\n");
            appendChildren(sb, branches, root, "");
        }
        return sb.toString();
    }

    private static void appendChildren(StringBuilder sb, List<BranchInfo> all, BranchInfo parent, String indent) {
        List<BranchInfo> children = new ArrayList<>(all.stream().filter(b -> parent.name().equals(b.parent())).toList());
        children.sort(Comparator.comparing((BranchInfo b) -> dev.zenith.Lsn.parse(b.ancestorLsn()))
                .thenComparing(b -> b.name().value()));
        for (int i = 0; i < children.size(); i++) {
            BranchInfo child = children.get(i);
            boolean last = i == children.size() - 1;
            sb.append(indent).append(last ? "┗━ " : "┣━ ").append('@').append(child.ancestorLsn()).append(": ")
                    .append(child.name()).append(" [").append(child.timelineId()).append("]\n");
            appendChildren(sb, all, child, indent + (last ? "   " : "┃  "));
        }
    }
}
