package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.model.LogEntry;
import dev.zenith.model.Requests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "log", mixinStandardHelpOptions = true,
        header = "Show a branch's history: each transaction and the tables it changed, newest first.",
        description = {"Each committed transaction of the branch, newest first, as git log shows commits: when it committed,",
                "its LSN (the point just after it, for --at), its transaction id, and per table the rows it inserted (+),",
                "updated (~) and deleted (-) and any DDL (created, altered, rewritten, truncated, dropped). Below the branch's",
                "branch point its parent's history goes on. Tags and branches made at a point are shown on the transaction",
                "before it. Read from the WAL the repository keeps; the branch's compute starts for table names."})
final class LogCommand implements Callable<Integer> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS xxx");

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", arity = "0..1", description = "The branch (default: main).")
    BranchName branch;

    @Option(names = "--since", paramLabel = "POINT", description = "Only transactions after this point: a time (-1h, 2026-12-01T10:00:00Z), an LSN or a tag.")
    String since;

    @Option(names = "--until", paramLabel = "POINT", description = "Only transactions before this point.")
    String until;

    @Option(names = "--table", paramLabel = "NAME", description = "Only transactions that changed this table (table or schema.table); repeatable.")
    List<String> tables;

    @Option(names = {"-n", "--max-count"}, paramLabel = "N", description = "At most N transactions.")
    Integer limit;

    @Option(names = "--json", description = "Print one JSON object a line.")
    boolean json;

    @Override
    public Integer call() {
        checkPoints(since, until);
        if (limit != null && limit < 0) {
            throw new IllegalArgumentException("-n must be 0 or more, not " + limit);
        }
        PrintWriter out = spec.commandLine().getOut();
        BranchName name = branch == null ? BranchName.MAIN : branch;
        ApiClient.forRepository(Main.repoRoot(spec)).postLines("/v1/log", new Requests.Log(name.value(), since, until, tables, limit),
                (line, moreArrived) -> {
                    if (json) {
                        out.println(line);
                    } else {
                        print(out, Json.MAPPER.readValue(line, LogEntry.class));
                    }
                    if (!moreArrived) {
                        out.flush();
                    }
                });
        out.flush();
        return 0;
    }

    /** Points as the options give them (null: none), checked before any call: a typo is a usage error. */
    static void checkPoints(String... points) {
        Instant now = Instant.now();
        for (String point : points) {
            if (point != null) {
                PointInTime.parse(point, now);
            }
        }
    }



    static void print(PrintWriter out, LogEntry e) {
        if (e.kind().equals(LogEntry.BRANCH_POINT)) {
            out.println("--- " + (e.branch() == null ? "a deleted branch" : e.branch()) + " begins at " + e.lsn() + ", branched from "
                    + (e.parent() == null ? "a deleted branch" : e.parent()) + " ---");
            return;
        }
        String refs = e.refs() == null ? "" : "  (" + String.join(", ", e.refs()) + ")";
        out.println(e.lsn() + "  " + TIME.format(Instant.parse(e.time()).atZone(ZoneId.systemDefault())) + "  xid " + e.xid() + refs);
        int width = e.tables().stream().mapToInt(t -> t.table().length()).max().orElse(0);
        for (LogEntry.TableChange t : e.tables()) {
            StringBuilder line = new StringBuilder("    ").append(String.format("%-" + width + "s", t.table()));
            if (t.inserted() != 0 || t.updated() != 0 || t.deleted() != 0) {
                line.append("  +").append(t.inserted()).append(" ~").append(t.updated()).append(" -").append(t.deleted());
            }
            if (t.ddl() != null) {
                line.append("  ").append(t.ddl());
            }
            out.println(line);
        }
    }
}
