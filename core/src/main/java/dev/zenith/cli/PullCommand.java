package dev.zenith.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.model.PullSummary;
import dev.zenith.model.Requests;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "pull", mixinStandardHelpOptions = true,
        header = "Bring branches up to what a remote has.",
        description = {"Bring branches up to the remote's (all the remote has when none is named). A branch",
                "new here is fetched; one that committed here since it last agreed with the remote, while the",
                "remote went on too, is refused: nothing is overwritten. A running branch is restarted on the pulled state."})
final class PullCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BRANCH", arity = "0..*", description = "The branches to pull.")
    List<String> branches = List.of();

    @Option(names = "--remote", paramLabel = "NAME", defaultValue = "origin", description = "From where (default: ${DEFAULT-VALUE})")
    String remote;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws JsonProcessingException {
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        Requests.Transfer body = new Requests.Transfer(branches, Offline.callerCredentials());
        List<PullSummary> pulled = Progress.around(api, spec.commandLine().getErr(), op -> op.kind().equals("pull"),
                () -> api.post("/v1/remotes/" + remote + "/pull", body, new TypeReference<List<PullSummary>>() { }));
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(pulled));
        } else {
            for (PullSummary p : pulled) {
                out.println(switch (p.outcome()) {
                    case FETCHED -> "fetched " + p.branch() + " from " + remote + " (manifest " + p.manifest() + ", "
                            + Bytes.human(p.bytesFetched()) + ")";
                    case FAST_FORWARDED -> "pulled " + p.branch() + " to " + remote + "'s manifest " + p.manifest();
                    case AHEAD -> p.branch() + ": nothing to pull; committed here since manifest " + p.manifest()
                            + " (zenith push " + p.branch() + " sends it)";
                    case UP_TO_DATE -> p.branch() + ": up to date with " + remote + " (manifest " + p.manifest() + ")";
                });
            }
        }
        out.flush();
        return 0;
    }
}
