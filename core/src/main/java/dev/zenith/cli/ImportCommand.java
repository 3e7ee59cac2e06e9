package dev.zenith.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.ConnectionString;
import dev.zenith.Json;
import dev.zenith.model.ImportMethod;
import dev.zenith.model.ImportResult;
import dev.zenith.model.Requests;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        header = "Bring in a database that lives elsewhere, as a new branch.",
        description = {"Make a new branch from a PostgreSQL server or a dump. A server that takes a replication",
                "connection and runs PostgreSQL 15 to 18 is copied physically (pg_basebackup): every database, role and",
                "extension, at its own version. Any other server, or with --logical, is dumped with pg_dump and restored",
                "into a fresh cluster of the source's version when zenith runs it, else the repository's (or --pg-version).",
                "A dump (pg_dump's custom, directory or tar format, or plain SQL) is restored the same way, into the",
                "repository's version. The branch is a root of its own: branch it, tag it, travel in its history, push",
                "it as any other. Uses the PostgreSQL client tools installed here",
                "($ZENITH_PG_TOOLS names their directory), at least as new as the source. The password comes from",
                "PGPASSWORD, ~/.pgpass ($PGPASSFILE) or the connection string, and is never stored.",
                "",
                "Examples:",
                "  zenith import postgresql://me@db.example.com:5432/shop",
                "  zenith import \"host=localhost port=5433 dbname=app user=app\" --as app --logical",
                "  zenith import shop.dump --as shop-yesterday"})
final class ImportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SOURCE", arity = "0..1", description = "A libpq connection string (postgresql://... or"
            + " host=... dbname=...), or a dump file or directory.")
    String source;

    @Option(names = "--follow", description = "Keep receiving the source's WAL after the copy (physical only): branch it"
            + " at any moment since (zenith branch fix prod --at -10m). The branch itself takes no writes.")
    boolean follow;

    @Option(names = "--slot", paramLabel = "NAME", description = "With --follow: make a replication slot NAME on the source,"
            + " which keeps its WAL until it is received, however long the laptop sleeps. A forgotten slot fills the"
            + " source's disk: drop it there (pg_drop_replication_slot) when done.")
    String slot;

    @Option(names = "--stop-following", paramLabel = "BRANCH", description = "Stop receiving WAL into BRANCH; it keeps its"
            + " history and takes writes again.")
    String stopFollowing;

    @Option(names = "--as", paramLabel = "BRANCH", description = "The new branch's name (default: the database's, or the"
            + " dump file's without its extension).")
    String as;

    @Option(names = "--logical", description = "Dump and restore even when a physical copy is possible.")
    boolean logical;

    @Option(names = "--pg-version", paramLabel = "N", description = "The PostgreSQL major version of a logically imported"
            + " branch (default: the source server's when zenith runs it, else the repository's).")
    Integer pgVersion;

    @Option(names = "--schema", paramLabel = "PATTERN", description = "Only these schemas (pg_dump --schema; logical).")
    List<String> schemas = List.of();

    @Option(names = "--table", paramLabel = "PATTERN", description = "Only these tables (pg_dump --table; logical).")
    List<String> tables = List.of();

    @Option(names = "--exclude-table-data", paramLabel = "PATTERN", description = "These tables without their rows"
            + " (pg_dump --exclude-table-data; logical).")
    List<String> excludeTableData = List.of();

    @Option(names = "--schema-only", description = "Definitions without rows (logical).")
    boolean schemaOnly;

    @Option(names = "--mask", paramLabel = "RULES.yaml", description = "Mask the columns the rules name before the copy"
            + " becomes a branch (see zenith branch --mask); none of its history before the masking is kept.")
    Path mask;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws JsonProcessingException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (as != null) {
            BranchName.requireSafeName(as);
        }
        Path root = Main.repoRoot(spec);
        ApiClient api = ApiClient.forRepository(root);
        if (stopFollowing != null) {
            if (source != null || follow) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--stop-following takes only a branch");
            }
            api.post("/v1/branches/" + BranchName.requireSafeName(stopFollowing) + "/stop-following", Map.of(),
                    new TypeReference<Map<String, Object>>() { });
            out.println("branch " + stopFollowing + " no longer follows its source; it keeps what it received");
            out.flush();
            return 0;
        }
        if (source == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name what to import: a connection string"
                    + " (postgresql://user@host:5432/db) or a dump");
        }
        if (slot != null && !follow) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--slot goes with --follow");
        }
        Requests.Import body = new Requests.Import(source, Path.of("").toAbsolutePath().toString(), as, pgVersion,
                logical ? Boolean.TRUE : null, schemas, tables, excludeTableData, schemaOnly ? Boolean.TRUE : null,
                follow ? Boolean.TRUE : null, slot, libpqEnvironment(),
                mask == null ? null : BranchCommand.maskRules(mask));
        ImportResult made;
        try (InterruptNotice notice = InterruptNotice.saying(err, "the import goes on in the pageserver (zenith status shows"
                + " it); it becomes a branch only when it is whole, and nothing of it is left if it fails")) {
            made = Progress.around(api, err, op -> op.kind().equals("import"),
                    () -> api.postWaiting("/v1/imports", body, new TypeReference<ImportResult>() { }));
        }
        if (json) {
            out.println(Json.MAPPER.writeValueAsString(made));
        } else {
            out.println("imported " + made.source() + " as branch " + made.branch() + " (" + made.method().name().toLowerCase(Locale.ROOT)
                    + (made.masked() ? ", masked" : "") + ", PostgreSQL " + made.pgVersion() + ", " + Bytes.human(made.bytes()) + ", "
                    + String.format(Locale.ROOT, "%.1f s", made.millis() / 1000.0) + ")");
            if (made.method() == ImportMethod.LOGICAL && made.why() != null) {
                out.println("logical because " + made.why());
            }
            ConnectionString c = ConnstrCommand.forBranch(Offline.open(root), BranchName.of(made.branch()));
            if (made.following()) {
                out.println("following: the source's WAL keeps arriving; branch it at any moment since, for example");
                out.println("  zenith branch fix " + made.branch() + " --at -10m");
                out.println("connect to a branch of it: psql \"" + new ConnectionString(c.host(), c.port(), made.user(),
                        made.database(), BranchName.of("fix")).uri() + "\"");
            } else {
                out.println("connect: psql \"" + new ConnectionString(c.host(), c.port(), made.user(), made.database(),
                        c.branch()).uri() + "\"");
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The caller's libpq variables, which the daemon's tools would not see otherwise (its password, its
     * service file, its TLS settings), and where the caller's client tools are ({@code PATH},
     * {@code ZENITH_PG_TOOLS}). A {@code ~/.pgpass} of the caller's is named explicitly, since the
     * daemon may have another home.
     */
    private static Map<String, String> libpqEnvironment() {
        Map<String, String> env = new HashMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("PG") || k.equals("PATH") || k.equals("ZENITH_PG_TOOLS")) {
                env.put(k, v);
            }
        });
        Path pgpass = Path.of(System.getProperty("user.home"), ".pgpass");
        if (!env.containsKey("PGPASSFILE") && Files.isReadable(pgpass)) {
            env.put("PGPASSFILE", pgpass.toString());
        }
        return env;
    }
}
