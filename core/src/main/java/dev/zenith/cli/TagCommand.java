package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.model.TagInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tag", mixinStandardHelpOptions = true,
        header = "Name a point of a branch's history, or list the tags.",
        description = {"Name a point of a branch's history (default: its end now). A tag's point stays reachable:",
                "garbage collection and retention keep what it needs, even after its branch is deleted.",
                "Use it wherever a point goes: --at NAME, branch=main@NAME, zenith branch reset B --to NAME.",
                "With no NAME, list the tags."},
        subcommands = {TagCommand.Create.class, TagCommand.Delete.class})
final class TagCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Name of the new tag.")
    TagName name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "BRANCH", description = "The branch whose point it names (default: main).")
    BranchName branch;

    @Option(names = "--at", paramLabel = "LSN|TIME", description = "A past point of BRANCH: 0/16B5A50, 2026-11-24T10:15:00Z, -10m.")
    String at;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (name != null) {
            Typos.refuseMistypedSubcommand(spec, name.value(), branch);
        }
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        if (name == null) {
            List<TagInfo> tags = api.get("/v1/tags", new TypeReference<>() { });
            if (json) {
                out.println(Json.MAPPER.writeValueAsString(tags));
            } else {
                tags.forEach(t -> out.println(t.name() + "  " + (t.branch() == null ? "timeline " + t.timelineId() : t.branch())
                        + "@" + t.lsn() + "  made " + t.createdAt() + (t.requested() == null ? "" : "  (asked: " + t.requested() + ")")));
            }
            out.flush();
            return 0;
        }
        return create(api, out, name, branch, at, json);
    }

    static int create(ApiClient api, PrintWriter out, TagName name, BranchName branch, String at, boolean json) throws IOException {
        Map<String, String> body = new HashMap<>(Map.of("name", name.value(), "branch", (branch == null ? BranchName.MAIN : branch).value()));
        if (at != null) {
            PointInTime.parse(at, Instant.now()); // a typo is a usage error, before any call
            body.put("at", at);
        }
        TagInfo tag = api.post("/v1/tags", body, new TypeReference<>() { });
        out.println(json ? Json.MAPPER.writeValueAsString(tag) : "tag " + tag.name() + " names " + tag.branch() + " at " + tag.lsn());
        out.flush();
        return 0;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a tag (the same as zenith tag NAME [BRANCH], for a tag named create or delete).")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "Name of the new tag.")
        TagName name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "BRANCH", description = "The branch (default: main).")
        BranchName branch;

        @Option(names = "--at", paramLabel = "LSN|TIME", description = "A past point of BRANCH.")
        String at;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            return create(ApiClient.forRepository(Main.repoRoot(spec)), spec.commandLine().getOut(), name, branch, at, json);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a tag; what only it kept is removed at the next garbage collection.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The tag.")
        TagName name;

        @Override
        public Integer call() {
            TagInfo deleted = ApiClient.forRepository(Main.repoRoot(spec)).delete("/v1/tags/" + name, new TypeReference<>() { });
            spec.commandLine().getOut().println("deleted tag " + deleted.name() + " (" + deleted.branch() + " at " + deleted.lsn() + ")");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
