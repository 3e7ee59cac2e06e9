package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.ZenithException;
import dev.zenith.model.ComputeStatus;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "start", mixinStandardHelpOptions = true,
        header = "Bring everything up in one step and say how to connect.",
        description = {"Bring everything up in one step: init when there is no repository,",
                "start the pageserver, start the main branch's Postgres, and say how to connect."})
final class StartCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    InitCommand init;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path root = Main.repoRoot(spec);
        if (!Offline.exists(root)) {
            init.init(root, out);
        } else {
            refuseInitOptions(root);
        }
        Offline repository = Offline.open(root);
        if (repository.daemonPid().isEmpty()) {
            out.println("Starting pageserver at '127.0.0.1:" + repository.config().apiPort() + "' in " + Main.display(spec, root));
            out.flush();
            PageserverCommand.requireFreePorts(repository.config());
            PageserverCommand.spawn(repository, false);
            out.println("Page server started");
        }
        out.flush();
        ComputeStatus main = ApiClient.forRepository(root).post("/v1/computes/" + BranchName.MAIN + "/start", Map.of(),
                new TypeReference<>() { });
        int proxy = repository.config().proxyPort();
        out.println();
        out.println("Branch main is running. Connect through the proxy, naming any branch (Postgres starts on demand):");
        out.println("  psql \"host=127.0.0.1 port=" + proxy + " dbname=postgres options=branch=main\"");
        out.println("  jdbc:postgresql://127.0.0.1:" + proxy + "/postgres?options=branch%3Dmain");
        out.println("or to main's Postgres directly: psql \"host=" + main.host() + " port=" + main.port() + " dbname=postgres\"");
        out.println("Make a branch with: zenith branch NAME main; stop everything with: zenith pageserver stop");
        out.flush();
        return 0;
    }

    /** init's options make a new repository; on an existing one they would be silently ignored, so they are refused. */
    private void refuseInitOptions(Path root) {
        List<String> given = spec.commandLine().getParseResult().matchedOptions().stream()
                .map(CommandLine.Model.OptionSpec::longestName).filter(name -> !name.equals("--repo")).toList();
        if (!given.isEmpty()) {
            throw new ZenithException(ZenithException.Kind.BAD_REQUEST, "the repository in " + Main.display(spec, root)
                    + " exists, and " + String.join(", ", given) + (given.size() == 1 ? " only applies" : " only apply")
                    + " when zenith start makes one",
                    "leave them out, or change the setting in " + Main.display(spec, root.resolve("config.json"))
                            + " and restart the pageserver (for one run: zenith pageserver start --proxy-port N)");
        }
    }
}
