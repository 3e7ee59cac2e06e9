package dev.zenith.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.model.PushSummary;
import dev.zenith.model.Requests;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "push", mixinStandardHelpOptions = true,
        header = "Send branches to a remote.",
        description = {"Send branches to a remote: what it lacks of their WAL and images (and their ancestors' up to",
                "their branch points), then a new manifest each. A running branch's open WAL is archived first.",
                "Refused when someone pushed the branch since you last pushed or pulled it: zenith pull first."})
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
        if (branches.isEmpty() == !all) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name the branches to push, or --all (not both)");
        }
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        Requests.Transfer body = new Requests.Transfer(branches, Offline.callerCredentials());
        List<PushSummary> pushed = Progress.around(api, spec.commandLine().getErr(), op -> op.kind().equals("push"),
                () -> api.post("/v1/remotes/" + remote + "/push", body, new TypeReference<List<PushSummary>>() { }));
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(pushed));
        } else {
            for (PushSummary p : pushed) {
                out.println(p.upToDate() ? p.branch() + ": up to date with " + remote + " (manifest " + p.manifest() + ")"
                        : "pushed " + p.branch() + " to " + remote + " (manifest " + p.manifest() + "): " + p.objectsSent()
                        + " objects sent, " + Bytes.human(p.bytesSent()) + ", " + p.objectsKept() + " already there, "
                        + String.format(Locale.ROOT, "%.1f s", p.millis() / 1000.0));
            }
        }
        out.flush();
        return 0;
    }
}
