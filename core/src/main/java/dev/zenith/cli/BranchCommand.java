package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.Expiry;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.MaskRules;
import dev.zenith.model.BranchCreated;
import dev.zenith.model.BranchData;
import dev.zenith.model.BranchDeleted;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.FollowState;
import dev.zenith.model.BranchReset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import dev.zenith.pageserver.Offline;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "branch", mixinStandardHelpOptions = true,
        header = "Create a branch, now or at a past point, or show the tree of branches.",
        description = {"Create a branch at the end of its parent's WAL (copies no data) or at a past point,",
                "or with no NAME, show the tree of branches."},
        subcommands = {BranchCommand.Create.class, BranchCommand.Delete.class, BranchCommand.Rename.class,
                BranchCommand.Reset.class, BranchCommand.Retention.class, BranchCommand.Expire.class,
                BranchCommand.Protect.class, BranchCommand.Unprotect.class})
final class BranchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Name of the new branch.")
    BranchName name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PARENT", description = "Branch to branch from (default: main).")
    BranchName parent;

    @Option(names = "--at", paramLabel = "LSN|TIME|TAG",
            description = {"Branch at a past point of PARENT: an LSN (0/16B5A50), a time with its zone",
                    "(2026-11-24T10:15:00Z), a relative time (-10m, -2h) or a tag of PARENT."})
    String at;

    @Option(names = "--retention", paramLabel = "DURATION",
            description = "This branch's retention window (2h, 7d, never); default: the repository's")
    String retention;

    @Option(names = "--expires", paramLabel = "DURATION|TIME",
            description = "Delete the branch after this long (2h, 7d) or at this time (2026-12-01T00:00Z)")
    String expires;

    @Option(names = "--git", description = "The branch named after the checked-out git branch (feature/login: feature-login),"
            + " made on first use from --from, git config zenith.parent, or main.")
    boolean git;

    @Option(names = "--from", paramLabel = "PARENT", description = "With --git: the parent of a branch made now.")
    BranchName from;

    @Option(names = "--env-file", paramLabel = "FILE",
            description = "With --git: set DATABASE_URL in this dotenv file (.env) to the branch's connection string.")
    Path envFile;

    @Option(names = "--schema-only", description = {"A new root with PARENT's schema, roles and extensions and no rows",
            "(sequences at their start), nothing of its history before: safe to hand around."})
    boolean schemaOnly;

    @Option(names = "--mask", paramLabel = "RULES.yaml", description = {"A new root with PARENT's data, the columns the rules",
            "name masked (database: table: column: rule; see the README), nothing of its history before."})
    Path mask;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--all", description = "Also list the branches test suites made (test-..., with an expiry), hidden otherwise.")
    boolean all;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (git) {
            return forGit(out);
        }
        if (from != null || envFile != null) {
            throw new IllegalArgumentException((from != null ? "--from" : "--env-file") + " goes with --git");
        }
        if (name != null) {
            Typos.refuseMistypedSubcommand(spec, name.value(), parent);
        }
        ApiClient api = ApiClient.forRepository(Main.repoRoot(spec));
        if (name == null) {
            List<BranchInfo> every = api.get("/v1/branches", new TypeReference<>() { });
            List<BranchInfo> branches = all ? every : every.stream().filter(b -> !isMadeForATest(b)).toList();
            int hidden = every.size() - branches.size();
            out.print(json ? Json.MAPPER.writeValueAsString(branches) + "\n" : tree(branches)
                    + (hidden == 0 ? "" : "(" + hidden + " test branches hidden: zenith branch --all)\n"));
            out.flush();
            return 0;
        }
        return create(api, out, spec.commandLine().getErr(), name, parent, at, retention, expires, Content.of(schemaOnly, mask), json);
    }

    /** What zenith-junit makes for a test: a {@code test-} name and an expiry as a safety net. */
    static boolean isMadeForATest(BranchInfo branch) {
        return branch.name().value().startsWith("test-") && branch.expiresAt() != null;
    }

    /** {@code branch --git}: finds or makes the git branch's branch, and points the env file at it when asked. */
    private int forGit(PrintWriter out) throws IOException {
        if (name != null) {
            throw new IllegalArgumentException("--git names the branch after the git branch: leave out " + name);
        }
        Path root = Main.repoRoot(spec);
        BranchName branch = GitBranches.ensure(root, Main.workingDirectory(spec), Optional.ofNullable(from), spec.commandLine().getErr());
        String uri = ConnstrCommand.forBranch(Offline.open(root), branch).uri();
        boolean changed = envFile != null && EnvFile.set(Main.workingDirectory(spec).resolve(envFile), "DATABASE_URL", uri);
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(Map.of("branch", branch.value(), "connectionString", uri)));
        } else {
            out.println(branch + (changed ? "  (DATABASE_URL in " + envFile + " now points at it)" : ""));
        }
        out.flush();
        return 0;
    }

    /** What a new branch holds, and for a masked one the rules' text, read and checked before anything is asked. */
    record Content(BranchData data, String maskRules) {

        static Content of(boolean schemaOnly, Path mask) {
            if (schemaOnly && mask != null) {
                throw new IllegalArgumentException("--schema-only and --mask each make a new root: give one");
            }
            return mask == null ? new Content(schemaOnly ? BranchData.SCHEMA_ONLY : BranchData.HISTORY, null)
                    : new Content(BranchData.MASKED, BranchCommand.maskRules(mask));
        }
    }

    /** The text of the masking rules in {@code file}, refused as a usage error when it is missing or malformed. */
    static String maskRules(Path file) {
        String text;
        try {
            text = java.nio.file.Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("the masking rules " + file + " do not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the masking rules " + file + ": " + e);
        }
        MaskRules.parse(text);
        return text;
    }

    static int create(ApiClient api, PrintWriter out, PrintWriter err, BranchName name, BranchName parent, String at,
                      String retention, String expires, Content content, boolean json) throws IOException {
        Map<String, String> body = new java.util.HashMap<>(
                Map.of("name", name.value(), "parent", (parent == null ? BranchName.MAIN : parent).value()));
        if (at != null) {
            PointInTime.parse(at, java.time.Instant.now()); // a typo is a usage error, before any call
            body.put("at", at);
        }
        if (retention != null) {
            dev.zenith.DurationText.parse(retention, "--retention");
            body.put("retention", retention);
        }
        if (expires != null) {
            Expiry.parse(expires, java.time.Instant.now());
            body.put("expires", expires);
        }
        if (content.data() != BranchData.HISTORY) {
            body.put("data", content.data().name());
            if (content.maskRules() != null) {
                body.put("mask", content.maskRules());
            }
            // a copy recovers and is emptied or masked: seconds to minutes, with its progress from the daemon's operations
            BranchCreated made = Progress.around(api, err,
                    op -> op.kind().equals("branch") && name.value().equals(op.branch()),
                    () -> api.postWaiting("/v1/branches", body, new TypeReference<BranchCreated>() { }));
            out.println(json ? Json.MAPPER.writeValueAsString(made) : content.data() == BranchData.SCHEMA_ONLY
                    ? "made " + name + " of the schema of " + made.parent() + " at " + made.lsn() + ": a new root, no rows"
                    : "made " + name + " of " + made.parent() + " at " + made.lsn() + ", masked: a new root, nothing before it");
            out.flush();
            return 0;
        }
        BranchCreated point = api.post("/v1/branches", body, new TypeReference<>() { });
        out.println(json ? Json.MAPPER.writeValueAsString(point)
                : (at == null ? "branching at end of WAL: " : "branching at LSN: ") + point.lsn());
        out.flush();
        return 0;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a branch (the same as zenith branch NAME [PARENT], for names like delete or reset).")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "Name of the new branch.")
        BranchName name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PARENT", description = "Branch to branch from (default: main).")
        BranchName parent;

        @Option(names = "--at", paramLabel = "LSN|TIME|TAG", description = "A past point of PARENT: 0/16B5A50, 2026-11-24T10:15:00Z, -10m, or a tag.")
        String at;

        @Option(names = "--retention", paramLabel = "DURATION", description = "This branch's retention window.")
        String retention;

        @Option(names = "--expires", paramLabel = "DURATION|TIME", description = "Delete the branch after this long or at this time.")
        String expires;

        @Option(names = "--schema-only", description = "A new root with PARENT's schema, roles and extensions and no rows.")
        boolean schemaOnly;

        @Option(names = "--mask", paramLabel = "RULES.yaml", description = "A new root with PARENT's data, masked by the rules.")
        Path mask;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            return create(ApiClient.forRepository(Main.repoRoot(spec)), spec.commandLine().getOut(), spec.commandLine().getErr(),
                    name, parent, at, retention, expires, Content.of(schemaOnly, mask), json);
        }
    }

    @Command(name = "retention", mixinStandardHelpOptions = true,
            description = "Set a branch's retention window (2h, 7d, never), or 'default' for the repository's.")
    static final class Retention implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Parameters(index = "1", paramLabel = "DURATION", description = "2h, 7d, never, or default.")
        String window;

        @Override
        public Integer call() {
            String value = window.equals("default") ? null : window;
            if (value != null) {
                dev.zenith.DurationText.parse(value, "retention");
            }
            Map<String, String> body = new java.util.HashMap<>();
            body.put("retention", value); // null: back to the repository's
            return change(spec, name, "retention", body,
                    "branch " + name + (value == null ? " keeps its history for the repository's retention window"
                            : value.strip().equalsIgnoreCase("never") ? " keeps all its history" : " keeps its history for " + value));
        }
    }

    @Command(name = "expire", mixinStandardHelpOptions = true,
            description = "Have the daemon delete a branch after a while (2h, 7d), at a time (2026-12-01T00:00Z), or never.")
    static final class Expire implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Parameters(index = "1", paramLabel = "DURATION|TIME|never", description = "When it goes.")
        String when;

        @Override
        public Integer call() {
            Expiry.parse(when, java.time.Instant.now());
            Map<String, String> answer = ApiClient.forRepository(Main.repoRoot(spec)).post("/v1/branches/" + name + "/expire",
                    Map.of("expires", when), new TypeReference<>() { });
            String at = answer.get("expiresAt");
            spec.commandLine().getOut().println("branch " + name + (at.equals("never") ? " never expires" : " expires at " + at));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "protect", mixinStandardHelpOptions = true,
            description = "Refuse delete and reset of a branch (and its expiry) until it is unprotected; main always is.")
    static final class Protect implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Override
        public Integer call() {
            return change(spec, name, "protect", Map.of(), "branch " + name + " is protected: delete and reset are refused");
        }
    }

    @Command(name = "unprotect", mixinStandardHelpOptions = true, description = "Allow delete and reset of a branch again.")
    static final class Unprotect implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Override
        public Integer call() {
            return change(spec, name, "unprotect", Map.of(), "branch " + name + " is no longer protected");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a branch and free its storage; refused for main and protected branches. History a child branch or a tag needs stays.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Override
        public Integer call() {
            BranchDeleted deleted = ApiClient.forRepository(Main.repoRoot(spec))
                    .delete("/v1/branches/" + name, new TypeReference<>() { });
            spec.commandLine().getOut().println("deleted branch " + deleted.name() + ", freed " + Bytes.human(deleted.freedBytes())
                    + (deleted.historyKeptFor().isEmpty() ? ""
                    : "; its history stays as long as " + String.join(", ", deleted.historyKeptFor()) + " need it"));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "rename", mixinStandardHelpOptions = true,
            description = "Rename a branch; its compute keeps running and new connections use the new name.")
    static final class Rename implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "OLD", description = "The branch.")
        BranchName from;

        @Parameters(index = "1", paramLabel = "NEW", description = "Its new name.")
        BranchName to;

        @Override
        public Integer call() {
            return change(spec, from, "rename", Map.of("to", to.value()), "renamed branch " + from + " to " + to);
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = {"Make a branch its parent's latest state again, or the point a tag names (--to).",
                    "Its clients are disconnected (57P01); the previous state stays as NAME_old_<time> unless --no-backup."})
    static final class Reset implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The branch.")
        BranchName name;

        @Option(names = "--to-parent", description = "Reset to the parent's latest state (the default).")
        boolean toParent;

        @Option(names = "--to", paramLabel = "TAG", description = "Reset to the point this tag names (of this branch or another).")
        TagName to;

        @Option(names = "--no-backup", description = "Do not keep the previous state.")
        boolean noBackup;

        @Override
        public Integer call() {
            if (toParent && to != null) {
                throw new IllegalArgumentException("--to-parent and --to " + to + " name two targets: give one");
            }
            Map<String, Object> body = new java.util.HashMap<>(Map.of("backup", !noBackup));
            if (to != null) {
                body.put("to", to.value());
            }
            BranchReset reset = ApiClient.forRepository(Main.repoRoot(spec)).post("/v1/branches/" + name + "/reset",
                    body, new TypeReference<>() { });
            PrintWriter out = spec.commandLine().getOut();
            String target = to == null ? String.valueOf(reset.parent()) : "tag " + to + (reset.parent() == null ? "" : " of " + reset.parent());
            out.println("reset branch " + reset.name() + " to " + target + " at " + reset.lsn()
                    + (reset.backup() == null ? "" : "; its previous state is branch " + reset.backup()));
            out.flush();
            return 0;
        }
    }

    /** Posts {@code action} for a branch and prints {@code done}: the commands that change one thing of a branch. */
    private static int change(CommandSpec spec, BranchName name, String action, Map<String, ?> body, String done) {
        ApiClient.forRepository(Main.repoRoot(spec)).post("/v1/branches/" + name + "/" + action, body,
                new TypeReference<Map<String, Object>>() { });
        spec.commandLine().getOut().println(done);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The tree as neon_local draws it: {@code ┣━ @0/16F9A00: migration_check}. */
    static String tree(List<BranchInfo> branches) {
        StringBuilder sb = new StringBuilder();
        // main first, then the roots made by imports
        List<BranchInfo> roots = branches.stream().filter(b -> b.parent() == null)
                .sorted(Comparator.comparing((BranchInfo b) -> !b.name().equals(BranchName.MAIN))).toList();
        int mainVersion = branches.stream().filter(b -> b.name().equals(BranchName.MAIN)).mapToInt(BranchInfo::pgVersion)
                .findFirst().orElse(0);
        for (BranchInfo root : roots) {
            sb.append(root.name()).append(" [").append(root.timelineId()).append("]").append(details(root))
                    .append(root.ancestorLsn() == null ? "" : "  (grew from a deleted branch at " + root.ancestorLsn() + ")")
                    .append(root.importedFrom() == null ? "" : "  imported from " + root.importedFrom())
                    .append(root.pgVersion() == mainVersion || root.pgVersion() == 0 ? "" : "  PostgreSQL " + root.pgVersion())
                    .append(root.following() == null ? "" : "\n   " + following(root.following()))
                    .append('\n');
            appendChildren(sb, branches, root, "");
        }
        return sb.toString();
    }

    /** {@code following: received up to 0/71005810, 0 bytes behind (caught up)}, or what stopped it. */
    static String following(FollowState f) {
        if (f.problem() != null) {
            return "following, not receiving: " + f.problem();
        }
        String lag = f.lagBytes() < 0 ? "the source does not answer" : f.lagBytes() == 0 ? "caught up"
                : Bytes.human(f.lagBytes()) + " behind" + (f.lagSeconds() > 0 ? ", for " + f.lagSeconds() + " s" : "");
        return "following: received up to " + f.received() + " (" + lag + ")" + (f.slot() == null ? "" : ", slot " + f.slot());
    }

    /** Where the branch's WAL ends, its compute, the disk it uses (timeline storage + data directory), and its expiry or protection. */
    private static String details(BranchInfo b) {
        return "  last " + b.lastLsn() + "  compute " + (b.compute() == null ? "none" : b.compute() + " " + b.computeState())
                + "  disk " + Bytes.human(b.storageBytes() + b.dataDirBytes())
                + (b.expiresAt() == null ? "" : "  expires " + b.expiresAt()) + (b.isProtected() ? "  protected" : "");
    }

    private static void appendChildren(StringBuilder sb, List<BranchInfo> all, BranchInfo parent, String indent) {
        List<BranchInfo> children = new ArrayList<>(all.stream().filter(b -> parent.name().equals(b.parent())).toList());
        children.sort(Comparator.comparing(BranchInfo::ancestorLsn)
                .thenComparing(b -> b.name().value()));
        for (int i = 0; i < children.size(); i++) {
            BranchInfo child = children.get(i);
            boolean last = i == children.size() - 1;
            sb.append(indent).append(last ? "┗━ " : "┣━ ").append('@').append(child.ancestorLsn()).append(": ")
                    .append(child.name()).append(" [").append(child.timelineId()).append("]").append(details(child)).append('\n');
            appendChildren(sb, all, child, indent + (last ? "   " : "┃  "));
        }
    }
}
