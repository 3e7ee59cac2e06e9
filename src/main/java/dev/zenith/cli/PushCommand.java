package dev.zenith.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.zenith.Json;
import dev.zenith.api.model.PushSummary;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "push", mixinStandardHelpOptions = true,
        description = {"Send branches to a remote: what it lacks of their WAL and images, then their manifests.",
                "With no branch and --all, every branch. The pageserver must be stopped."})
final class PushCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", arity = "0..*", description = "The branches to push.")
    List<String> branches = List.of();

    @Option(names = "--remote", paramLabel = "NAME", defaultValue = "origin", description = "Where to (default: ${DEFAULT-VALUE})")
    String remote;

    @Option(names = "--all", description = "Every branch.")
    boolean all;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws JsonProcessingException {
        if (branches.isEmpty() && !all) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name the branches to push, or --all");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<PushSummary> pushed = Offline.open(Main.repoRoot(spec)).push(branches, remote, msg -> {
            if (!json) {
                out.println(msg);
                out.flush();
            }
        });
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(pushed));
        } else {
            for (PushSummary p : pushed) {
                out.println("pushed " + p.branch() + " to " + remote + " (manifest " + p.manifest() + "): "
                        + p.objectsSent() + " objects sent, " + Bytes.human(p.bytesSent()) + ", " + p.objectsKept() + " already there");
            }
        }
        out.flush();
        return 0;
    }
}
