package dev.zenith.cli;

import dev.zenith.Json;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.model.BranchRemoteState;
import dev.zenith.model.RemoteInfo;
import dev.zenith.model.Requests;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "remote", mixinStandardHelpOptions = true,
        header = "Places to push branches to and clone them from (S3).",
        description = {"Places to push branches to and clone them from: S3 buckets (AWS, MinIO, any S3-compatible store).",
                "Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws profiles,"
                        + " AWS_PROFILE) and are never written into the repository."},
        subcommands = {RemoteCommand.Add.class, RemoteCommand.ListRemotes.class, RemoteCommand.Remove.class,
                RemoteCommand.Status.class})
final class RemoteCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return new ListRemotes().print(Offline.open(Main.repoRoot(spec)).remotes(), false, spec.commandLine().getOut());
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a remote.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "What to call it (origin, team, ...).")
        String name;

        @Parameters(index = "1", paramLabel = "s3://BUCKET[/PREFIX]", description = "Where its objects live.")
        String url;

        @Option(names = "--endpoint", paramLabel = "URL", description = "An S3-compatible server (default: AWS)")
        String endpoint;

        @Option(names = "--region", paramLabel = "REGION", description = "The bucket's region (default: us-east-1)")
        String region;

        @Option(names = "--path-style", negatable = true, description = "Bucket in the path, not the host name"
                + " (default: on for IP and localhost endpoints)")
        Boolean pathStyle;

        @Override
        public Integer call() {
            RemoteInfo added = Offline.open(Main.repoRoot(spec)).addRemote(name, url, endpoint, region, pathStyle);
            PrintWriter out = spec.commandLine().getOut();
            out.println("added remote " + added.name() + " at " + added.url()
                    + (added.endpoint() == null ? "" : " on " + added.endpoint()));
            out.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the remotes.")
    static final class ListRemotes implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            return print(Offline.open(Main.repoRoot(spec)).remotes(), json, spec.commandLine().getOut());
        }

        int print(List<RemoteInfo> remotes, boolean asJson, PrintWriter out) {
            try {
                if (asJson) {
                    out.println(Json.MAPPER.writeValueAsString(remotes));
                } else if (remotes.isEmpty()) {
                    out.println("no remotes (zenith remote add NAME s3://BUCKET/PREFIX)");
                } else {
                    for (RemoteInfo r : remotes) {
                        out.println(r.name() + "\t" + r.url() + (r.endpoint() == null ? "" : "\t" + r.endpoint()));
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "How each branch stands against each remote: in sync, ahead, behind, diverged or not pushed.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws com.fasterxml.jackson.core.JsonProcessingException {
            PrintWriter out = spec.commandLine().getOut();
            List<BranchRemoteState> states = ApiClient.forRepository(Main.repoRoot(spec)).post("/v1/remotes/state",
                    new Requests.Transfer(List.of(), Offline.callerCredentials()), new TypeReference<List<BranchRemoteState>>() { });
            // a remote that could not be read is said once, not for each branch, and fails the command
            Map<String, String> unreadable = new java.util.TreeMap<>();
            states.stream().filter(s -> s.state() == null).forEach(s -> unreadable.putIfAbsent(s.remote(), s.detail()));
            if (json) {
                out.println(Json.MAPPER.writeValueAsString(states));
            } else if (states.isEmpty()) {
                out.println("no remotes (zenith remote add NAME s3://BUCKET/PREFIX)");
            } else {
                for (BranchRemoteState s : states) {
                    if (s.state() != null) {
                        out.println(s.branch() + "\t" + s.remote() + "\t" + s.state().name()
                                .toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + "\t" + s.detail());
                    }
                }
            }
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            unreadable.forEach((remote, why) -> err.println("zenith: cannot read remote " + remote + ": " + why));
            err.flush();
            return unreadable.isEmpty() ? 0 : 1;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Forget a remote (its objects stay where they are).")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            Offline.open(Main.repoRoot(spec)).removeRemote(name);
            spec.commandLine().getOut().println("removed remote " + name);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
