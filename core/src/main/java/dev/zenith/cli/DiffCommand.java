package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchPoint;
import dev.zenith.Json;
import dev.zenith.ZenithException;
import dev.zenith.model.DataDiff;
import dev.zenith.model.Requests;
import dev.zenith.model.SchemaDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "diff", mixinStandardHelpOptions = true,
        header = "Show what differs in the schema (and with --data, the rows) between two branches or points.",
        description = {"What differs in the schema between two branches or points (BRANCH or BRANCH@POINT, a point",
                "being a tag, an LSN or a time): schemas, tables and columns, constraints, indexes, views, functions,",
                "sequences and extensions, as a unified diff, with each table's estimated rows on both sides.",
                "With --data, also the rows: per table how many were added, removed and changed, matched by primary key",
                "(by whole row where there is none), and the first of them with the columns that differ. Each table is read",
                "once per side, in key order; tables the WAL shows unchanged on both sides since their common history are not read.",
                "Their computes start if needed (read-only views for points).",
                "Exit status as diff's: 0 the same, 1 different, 2 trouble."})
final class DiffCommand implements Callable<Integer> {

    private static final int DIFFERENT = 1;
    private static final int TROUBLE = 2;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FROM", description = "main, main@before-migration, main@-1h, ...")
    String from;

    @Parameters(index = "1", paramLabel = "TO", description = "The other side.")
    String to;

    @Parameters(index = "2..*", paramLabel = "TABLE", description = "With --data: the tables to compare (table or schema.table; default: all).")
    List<String> tables;

    @Option(names = "--data", description = "Compare the rows too.")
    boolean data;

    @Option(names = "--limit", paramLabel = "N", description = "With --data: list at most N differing rows per table (default: 20).")
    Integer limit;

    @Option(names = "--json", description = "Print JSON (with --data: {\"schema\": ..., \"data\": ...}).")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Instant now = Instant.now();
        BranchPoint.parse(from, now); // a typo is a usage error, before any call
        BranchPoint.parse(to, now);
        if (!data && (tables != null || limit != null)) {
            throw new IllegalArgumentException("tables and --limit go with --data: zenith diff " + from + " " + to + " --data ...");
        }
        if (limit != null && limit < 0) {
            throw new IllegalArgumentException("--limit must be 0 or more, not " + limit);
        }
        PrintWriter out = spec.commandLine().getOut();
        SchemaDiff diff;
        DataDiff rows = null;
        try {
            ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
            diff = api.post("/v1/diff", Map.of("from", from, "to", to), new TypeReference<>() { });
            if (data) {
                rows = api.postWaiting("/v1/diff/data", new Requests.DataDiff(from, to, tables, limit), new TypeReference<>() { });
            }
        } catch (ZenithException e) {
            // like diff, trouble is 2, so that 1 always means "they differ"
            Main.printError(spec.commandLine().getErr(), e);
            return TROUBLE;
        }
        boolean equal = diff.equal() && (rows == null || rows.equal());
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(rows == null ? diff : Map.of("schema", diff, "data", rows)));
        } else {
            out.print(diff.equal() ? "" : diff.unified());
            if (!diff.tables().isEmpty()) {
                out.println((diff.equal() ? "" : "\n") + "estimated rows: " + diff.from() + " -> " + diff.to());
                diff.tables().forEach(t -> out.println("  " + t.table() + ": " + rows(t.from()) + " -> " + rows(t.to())));
            }
            if (rows != null) {
                printData(out, rows);
            }
        }
        out.flush();
        return equal ? 0 : DIFFERENT;
    }

    private static void printData(PrintWriter out, DataDiff diff) throws IOException {
        out.println("\ndata: " + diff.from() + " -> " + diff.to());
        for (DataDiff.Table t : diff.tables()) {
            if (t.unchanged() != null) {
                out.println("  " + t.table() + ": the same (" + t.unchanged() + ")");
                continue;
            }
            if (t.equal()) {
                out.println("  " + t.table() + ": the same");
                continue;
            }
            String how = t.key() != null ? "by primary key (" + String.join(", ", t.key()) + ")"
                    : t.matchedBy().equals("whole row") ? "by whole row: no primary key" : t.matchedBy();
            out.println("  " + t.table() + ": " + t.added() + " added, " + t.removed() + " removed, " + t.changed() + " changed, " + how);
            if (t.columnsOnlyFrom() != null || t.columnsOnlyTo() != null) {
                out.println("    compared without columns only in " + (t.columnsOnlyFrom() != null ? "FROM " + t.columnsOnlyFrom() : "")
                        + (t.columnsOnlyFrom() != null && t.columnsOnlyTo() != null ? " and " : "")
                        + (t.columnsOnlyTo() != null ? "TO " + t.columnsOnlyTo() : ""));
            }
            for (DataDiff.Row r : t.rows()) {
                String row = Json.LINE.writeValueAsString(r.row());
                String key = r.key() == null ? "" : " " + r.key().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                        .collect(java.util.stream.Collectors.joining(", "));
                if (r.columns() != null) {
                    out.println("    ~" + key + ": " + r.columns().entrySet().stream()
                            .map(e -> e.getKey() + " " + e.getValue().from() + " -> " + e.getValue().to())
                            .collect(java.util.stream.Collectors.joining(", ")));
                } else {
                    out.println("    " + (r.change().equals("added") ? "+" : "-") + key + ": " + row);
                }
            }
            long more = t.added() + t.removed() + t.changed() - t.rows().size();
            if (more > 0) {
                out.println("    ... and " + more + " more (--limit N lists more, --json gives them as JSON)");
            }
        }
    }

    private static String rows(Long estimate) {
        return estimate == null ? "(none)" : "~" + estimate;
    }
}
