package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchPoint;
import dev.zenith.Json;
import dev.zenith.ZenithException;
import dev.zenith.model.SchemaDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "diff", mixinStandardHelpOptions = true,
        header = "Show what differs in the schema between two branches or points.",
        description = {"What differs in the schema between two branches or points (BRANCH or BRANCH@POINT, a point",
                "being a tag, an LSN or a time): schemas, tables and columns, constraints, indexes, views, functions,",
                "sequences and extensions, as a unified diff, with each table's estimated rows on both sides.",
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

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Instant now = Instant.now();
        BranchPoint.parse(from, now); // a typo is a usage error, before any call
        BranchPoint.parse(to, now);
        PrintWriter out = spec.commandLine().getOut();
        SchemaDiff diff;
        try {
            diff = ApiClient.forRepository(Main.repoRoot(spec)).post("/v1/diff", Map.of("from", from, "to", to),
                    new TypeReference<>() { });
        } catch (ZenithException e) {
            // like diff, trouble is 2, so that 1 always means "they differ"
            Main.printError(spec.commandLine().getErr(), e);
            return TROUBLE;
        }
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(diff));
        } else {
            out.print(diff.equal() ? "" : diff.unified());
            if (!diff.tables().isEmpty()) {
                out.println((diff.equal() ? "" : "\n") + "estimated rows: " + diff.from() + " -> " + diff.to());
                diff.tables().forEach(t -> out.println("  " + t.table() + ": " + rows(t.from()) + " -> " + rows(t.to())));
            }
        }
        out.flush();
        return diff.equal() ? 0 : DIFFERENT;
    }

    private static String rows(Long estimate) {
        return estimate == null ? "(none)" : "~" + estimate;
    }
}
