package dev.zenith.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.zenith.Json;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.model.CloneSummary;
import dev.zenith.model.OperationInfo;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.concurrent.Callable;

@Command(name = "clone", mixinStandardHelpOptions = true,
        header = "Make a repository from the branches on a remote.",
        description = {"Make a repository from the branches on a remote (all, or those named with --branch),"
                + " with the remote recorded as origin. Then everything works as where they were pushed."})
final class CloneCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "s3://BUCKET[/PREFIX]")
    String url;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DIR",
            description = "Where to make it: DIR/.zenith (default: --repo, $ZENITH_REPO_DIR or ./.zenith)")
    Path dir;

    @Option(names = "--branch", paramLabel = "NAME", description = "Only this branch and what it needs; repeatable")
    List<String> branches = List.of();

    @Option(names = "--endpoint", paramLabel = "URL", description = "An S3-compatible server (default: AWS)")
    String endpoint;

    @Option(names = "--region", paramLabel = "REGION", description = "The bucket's region (default: us-east-1)")
    String region;

    @Option(names = "--path-style", negatable = true, description = "Bucket in the path, not the host name")
    Boolean pathStyle;

    @Option(names = "--json", description = "Print what was cloned as JSON.")
    boolean json;

    @Mixin
    ListenOptions listen;

    @Override
    public Integer call() throws JsonProcessingException {
        listen.check();
        Path root = dir == null ? Main.newRepoRoot(spec) : dir.resolve(".zenith");
        if (Offline.exists(root)) {
            throw ZenithException.conflict("a zenith repository already exists in " + Main.display(spec, root),
                    "clone into another directory");
        }
        RepositoryConfig defaults = RepositoryConfig.defaults().apiPort(listen.apiPort).computePortBase(listen.computePortBase)
                .proxyPort(listen.proxyPort).proxySocketDirs(listen.proxySocketDirs).build();
        PrintWriter out = spec.commandLine().getOut();
        AtomicReference<Supplier<OperationInfo>> watched = new AtomicReference<>();
        CloneSummary cloned = Progress.around(spec.commandLine().getErr(), () -> Optional.ofNullable(watched.get()).map(Supplier::get),
                () -> Offline.clone(root, defaults, url, endpoint, region, pathStyle, branches, watched::set, msg -> { }));
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(cloned));
        } else {
            out.println("cloned " + Counts.of(cloned.branches().size(), "branch", "branches")
                    + " (" + Bytes.human(cloned.bytesFetched()) + " in " + cloned.timelinesFetched() + " timelines) from " + url
                    + " into " + Main.display(spec, root) + "; zenith pageserver start serves it");
        }
        out.flush();
        return 0;
    }
}
