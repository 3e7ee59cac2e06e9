package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.model.BisectStep;
import dev.zenith.model.Requests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "bisect", mixinStandardHelpOptions = true,
        header = "Find the transaction after which a query's result changed.",
        description = {"Binary search over the branch's transactions between a good point and a bad one: each probe runs the",
                "query on a read-only view of the branch just after a transaction, about log2(transactions) probes in all.",
                "Without --expect, the good point's result is the one to keep; with it, that value is. Prints the transaction",
                "found as zenith log does, the point just before it and how to branch there.",
                "Exit status: 0 found, 1 the result never changed, 2 trouble.",
                "Example: zenith bisect main --query \"select count(*) from orders where id = 42\" --good -1d"})
final class BisectCommand implements Callable<Integer> {

    private static final int UNCHANGED = 1;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", arity = "0..1", description = "The branch (default: main).")
    BranchName branch;

    @Option(names = "--query", required = true, paramLabel = "SQL", description = "The query whose result to watch.")
    String query;

    @Option(names = "--good", paramLabel = "POINT", description = "A point where the result is still good: a time (-1d), an LSN or a tag (default: the branch's start).")
    String good;

    @Option(names = "--bad", paramLabel = "POINT", description = "A point where it has changed (default: now).")
    String bad;

    @Option(names = "--expect", paramLabel = "VALUE", description = "The good result, as text (rows on lines, columns split by |): find when it stopped being this.")
    String expect;

    @Option(names = "--json", description = "Print each step as a JSON object on a line.")
    boolean json;

    @Override
    public Integer call() {
        LogCommand.checkPoints(good, bad);
        PrintWriter out = spec.commandLine().getOut();
        BranchName name = branch == null ? BranchName.MAIN : branch;
        boolean[] found = {false};
        ApiClient.forRepository(Main.repoRoot(spec)).postLines("/v1/bisect", new Requests.Bisect(name.value(), query, good, bad, expect),
                (line, moreArrived) -> {
                    BisectStep step = Json.MAPPER.readValue(line, BisectStep.class);
                    found[0] |= step.kind().equals(BisectStep.FOUND);
                    if (json) {
                        out.println(line);
                    } else {
                        print(out, name, step);
                    }
                    out.flush();
                });
        return found[0] ? 0 : UNCHANGED;
    }

    private static void print(PrintWriter out, BranchName branch, BisectStep step) {
        switch (step.kind()) {
            case BisectStep.START -> out.println("bisecting " + step.candidates() + " transactions of " + branch + " from " + step.lsn()
                    + " to " + step.bad() + " (about " + (64 - Long.numberOfLeadingZeros(Math.max(step.candidates(), 1))) + " probes)");
            case BisectStep.PROBE -> out.println("probe " + step.step() + " at " + step.lsn() + ": " + step.result().replace("\n", " / ")
                    + "  (" + step.candidates() + " left)");
            case BisectStep.UNCHANGED -> out.println("the result stayed " + step.result().replace("\n", " / ") + " up to " + step.lsn()
                    + ": no transaction changed it (" + step.step() + " probes)");
            case BisectStep.FOUND -> {
                out.println("\nthe first transaction after which the result changed (" + step.step() + " probes):");
                LogCommand.print(out, step.transaction());
                out.println("\nthe point just before it: " + step.before());
                out.println("branch there: " + step.command());
            }
            default -> out.println(step.kind());
        }
    }
}
