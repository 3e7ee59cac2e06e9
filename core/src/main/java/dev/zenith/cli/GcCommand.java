package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.model.GcResult;
import dev.zenith.model.RemoteGcResult;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "gc", mixinStandardHelpOptions = true,
        header = "Free the images and WAL no branch or tag needs, here or on a remote.",
        description = {"Remove the images and WAL that no branch needs for its latest state, its retention window,",
                "its children's branch points or its tags (the pageserver also does this every gcInterval).",
                "With --remote NAME: on that remote, keep each branch's newest --keep manifests and remove the",
                "objects none of them names (refused while a push to it runs)."})
final class GcCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--remote", paramLabel = "NAME", description = "Collect on this remote instead of locally.")
    String remote;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "1",
            description = "With --remote: manifests kept per branch (default: ${DEFAULT-VALUE}).")
    int keep;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (remote != null) {
            RemoteGcResult r = Offline.open(Main.repoRoot(spec)).collectRemoteGarbage(remote, keep, m -> { });
            out.println(json ? Json.MAPPER.writeValueAsString(r)
                    : "gc " + r.remote() + ": removed " + Counts.of(r.manifestsRemoved(), "old manifest", "old manifests") + " and "
                    + Counts.of(r.objectsRemoved(), "object", "objects") + " (" + Bytes.human(r.bytesRemoved()) + "); kept "
                    + Counts.of(r.objectsKept(), "object", "objects") + " (" + Bytes.human(r.bytesKept()) + ")");
            out.flush();
            return 0;
        }
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        GcResult r = Progress.around(api, spec.commandLine().getErr(), op -> op.kind().equals("gc"),
                () -> api.post("/v1/gc", Map.of(), new TypeReference<GcResult>() { }));
        out.println(json ? Json.MAPPER.writeValueAsString(r)
                : "gc: removed " + Counts.of(r.segments(), "WAL file", "WAL files") + ", " + Counts.of(r.images(), "image", "images")
                + " and " + Counts.of(r.timelines(), "unreferenced timeline", "unreferenced timelines") + "; freed "
                + Bytes.human(r.freedBytes()));
        out.flush();
        return 0;
    }
}
