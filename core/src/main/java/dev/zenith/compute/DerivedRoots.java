package dev.zenith.compute;

import dev.zenith.AtomicFiles;
import dev.zenith.BranchName;
import dev.zenith.Deadline;
import dev.zenith.Lsn;
import dev.zenith.MaskRules;
import dev.zenith.PointInTime;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.model.BranchCreated;
import dev.zenith.model.BranchData;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgCtl;
import dev.zenith.source.ClientRun;
import dev.zenith.source.ClientTools;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Branches that are new roots made of a branch's data, with its history left behind: {@code zenith branch
 * NAME PARENT --schema-only} and {@code --mask RULES}. The parent's newest image is copied and recovered
 * privately to the point, as a compute of a branch there would be, then promoted, emptied of rows or
 * masked, and stopped cleanly; the stopped copy is the new root's first image, so no time travel, tag or
 * view can reach what it was before.
 *
 * <p>Why in place rather than {@code pg_dump --schema-only} into a fresh cluster: it needs no client tools
 * as new as the server (a repository of PostgreSQL 18 on a system whose packages have 15 still works), and
 * every role, extension and setting is the parent's as it is. What it must then make sure of is that no
 * old value survives in a file: TRUNCATE, or an UPDATE then VACUUM FULL, gives every table it touches new
 * files and the old ones are removed at the checkpoint, statistics (and for schema-only, large objects)
 * are deleted and their catalogs rewritten, and the WAL the new root keeps begins after a segment switch,
 * past every record of the old values.
 *
 * <p>Locks: the parent's branch lock only while its point is settled (as a branch is made); the archive's
 * shared lock while the copy recovers, so a collection never removes the WAL it reads.
 */
public final class DerivedRoots {

    private static final Logger log = LoggerFactory.getLogger(DerivedRoots.class);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofHours(2);
    private static final Duration STEP = Duration.ofMillis(20);

    /** SQL: relation {@code oid} is not an extension's own (PostGIS's spatial_ref_sys is, and keeps its rows). */
    private static final String NOT_AN_EXTENSIONS = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
            + " AND d.objid = %s AND d.deptype = 'e')";

    /**
     * Empties a database of its rows, as {@code pg_dump --schema-only} and a restore would: one TRUNCATE of
     * every table (foreign keys among them allow it), sequences back at their start, large objects unlinked.
     */
    private static final String EMPTY_DATABASE = """
            DO $zenith$
            DECLARE tables text;
            BEGIN
              SELECT string_agg(c.oid::regclass::text, ', ') INTO tables FROM pg_class c
                WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' AND c.relnamespace NOT IN
                  ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)
                AND %s;
              IF tables IS NOT NULL THEN
                EXECUTE 'TRUNCATE ' || tables;
              END IF;
              PERFORM setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s WHERE %s;
              PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
            END
            $zenith$""".formatted(NOT_AN_EXTENSIONS.formatted("c.oid"), NOT_AN_EXTENSIONS.formatted("s.seqrelid"));

    /** The catalogs whose deleted rows held values: rewritten, so the old pages are gone from their files. */
    private static final List<String> REWRITTEN = List.of("pg_statistic", "pg_statistic_ext_data", "pg_largeobject",
            "pg_largeobject_metadata");
    private static final List<String> STATISTICS = List.of("pg_statistic", "pg_statistic_ext_data");

    /** Refreshes every populated materialized view with {@code how} (a refresh writes new files, the old go). */
    private static String refreshViews(String how) {
        return """
                DO $zenith$
                DECLARE r record;
                BEGIN
                  FOR r IN SELECT c.oid::regclass AS view FROM pg_class c WHERE c.relkind = 'm' AND c.relispopulated AND %s LOOP
                    EXECUTE format('REFRESH MATERIALIZED VIEW %%s%s', r.view);
                  END LOOP;
                END
                $zenith$""".formatted(NOT_AN_EXTENSIONS.formatted("c.oid"), how);
    }

    /** Schema-only: views emptied. */
    private static final String UNPOPULATE_VIEWS = refreshViews(" WITH NO DATA");
    /** Masked: views computed again from the masked tables. */
    private static final String REFRESH_VIEWS = refreshViews("");

    private static final String FORGET_STATISTICS = "DELETE FROM pg_statistic; DELETE FROM pg_statistic_ext_data";

    /** The file in the repository holding the key masking hashes are made with. */
    static final String MASK_KEY = "mask.key";

    private final Repository repository;
    private final TimelineLocks locks;
    private final ArchiveLock archive;
    private final BranchPoints points;
    private final DataDirMaker dataDirs;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final PostgresConfig.WalSettings wal;
    private final Superusers superusers;
    private final Operations operations;
    private final Function<TimelineId, Optional<Path>> livePgWal;

    DerivedRoots(Repository repository, TimelineLocks locks, ArchiveLock archive, BranchPoints points, DataDirMaker dataDirs,
                 PgCtl pgCtl, OsUser user, PostgresConfig.WalSettings wal, Superusers superusers, Operations operations,
                 Function<TimelineId, Optional<Path>> livePgWal) {
        this.repository = repository;
        this.locks = locks;
        this.archive = archive;
        this.points = points;
        this.dataDirs = dataDirs;
        this.pgCtl = pgCtl;
        this.user = user;
        this.wal = wal;
        this.superusers = superusers;
        this.operations = operations;
        this.livePgWal = livePgWal;
    }

    /**
     * How a derived root is made, kept in its timeline ({@value #RECIPE}) so {@code zenith branch reset} makes it
     * again from its parent's latest state: the parent's name, what is kept, and the masking rules' text.
     */
    public record Recipe(BranchName parent, BranchData data, String mask) {

        String what() {
            return data == BranchData.SCHEMA_ONLY ? "the schema of " + parent : parent + ", masked";
        }
    }

    /** The file in a derived root's timeline that holds its {@link Recipe}. */
    static final String RECIPE = "derived.json";

    /** Makes branch {@code name}: {@code parentName}'s schema, roles and extensions at {@code at} (null: now), no rows. */
    public BranchCreated schemaOnly(BranchName name, BranchName parentName, PointInTime at) {
        return create(name, new Recipe(parentName, BranchData.SCHEMA_ONLY, null), at);
    }

    /**
     * Makes branch {@code name}: {@code parentName} at {@code at} (null: now) with the columns {@code rules} name
     * masked. Every rule is checked against the copy's catalogs before anything is written: a wrong one
     * refuses the whole branch, and nothing is made.
     */
    public BranchCreated masked(BranchName name, BranchName parentName, PointInTime at, MaskRules rules) {
        return create(name, new Recipe(parentName, BranchData.MASKED, rules.text()), at);
    }

    /** How {@code timeline} was derived, when it is a derived root. */
    Optional<Recipe> recipeOf(Timeline timeline) {
        Path file = timeline.dir().resolve(RECIPE);
        return Files.exists(file) ? Optional.of(AtomicFiles.readJson(file, Recipe.class)) : Optional.empty();
    }

    /**
     * A derived root made again by {@code recipe} from its parent's latest state, for {@code finish} to put in
     * place of the old one (under the branch's lock, which is not held while the copy is made).
     */
    <T> T remake(BranchName name, Recipe recipe, Function<Staged, T> finish) {
        try (Staged staged = make(name, recipe, null)) {
            return finish.apply(staged);
        }
    }

    private BranchCreated create(BranchName name, Recipe recipe, PointInTime at) {
        repository.requireNewBranchName(name);
        try (Staged staged = make(name, recipe, at)) {
            Timeline root = archive.whileUsing(() -> repository.createRoot(name, staged.dataDir(), staged.end(), staged.origin(),
                    staged.superuser(), staged::fill));
            log.info("branch {} ({}) made of {}", name, root.id(), staged.origin());
            return new BranchCreated(name, root.id(), recipe.parent(), staged.point());
        }
    }

    /**
     * A derived root's first image, made and waiting in {@code tmp/} to become a timeline: {@link #fill}
     * writes the recipe into it; closing removes what is left.
     */
    record Staged(Path dataDir, Path restore, WalPoint end, Lsn point, String origin, String superuser, Recipe recipe)
            implements AutoCloseable {

        void fill(Path timelineDir) {
            AtomicFiles.writeJson(timelineDir.resolve(RECIPE), recipe);
        }

        @Override
        public void close() {
            FileTrees.deleteTree(dataDir);
            FileTrees.deleteTree(restore);
        }
    }

    private Work work(Recipe recipe) {
        return switch (recipe.data()) {
            case SCHEMA_ONLY -> DerivedRoots::empty;
            case MASKED -> masking(recipe.parent().value(), MaskRules.parse(recipe.mask()));
            case HISTORY -> throw new IllegalArgumentException("a branch of the history is not derived");
        };
    }

    private static void empty(ClientRun psql, StagedServer pg, String superuser) {
        for (String database : databases(psql, pg.conninfo(superuser, "template1"))) {
            String conninfo = pg.conninfo(superuser, database);
            sql(psql, conninfo, EMPTY_DATABASE, "emptying " + database);
            forgetValues(psql, conninfo, database, UNPOPULATE_VIEWS, REWRITTEN);
        }
    }

    /** {@code parentName}: what the copy is of, as an error names it (a branch, an import's source). */
    private Work masking(String parentName, MaskRules rules) {
        String key = maskKey();
        return (psql, pg, superuser) -> {
            List<String> existing = databases(psql, pg.conninfo(superuser, "template1"));
            List<String> problems = new ArrayList<>();
            Map<String, Map<String, Masking.TableInfo>> found = new LinkedHashMap<>();
            for (String database : rules.databases()) {
                if (!existing.contains(database)) {
                    problems.add("database " + database + " does not exist in " + parentName + " (it has " + String.join(", ", existing) + ")");
                    continue;
                }
                rules.tablesOf(database).forEach((table, columns) -> {
                    MaskRules.Column first = columns.getFirst();
                    Optional<Masking.TableInfo> info = Masking.parseTable(sqlOutput(psql, pg.conninfo(superuser, database),
                            Masking.tableQuery(first.schema(), first.table())));
                    problems.addAll(Masking.problems(table, info, columns));
                    info.ifPresent(i -> found.computeIfAbsent(database, d -> new LinkedHashMap<>()).put(table, i));
                });
            }
            if (!problems.isEmpty()) {
                throw ZenithException.badRequest("the masking rules do not fit " + parentName + ": " + String.join("; ", problems),
                        "fix the rules; nothing was made");
            }
            for (String database : rules.databases()) {
                String conninfo = pg.conninfo(superuser, database);
                rules.tablesOf(database).forEach((table, columns) -> {
                    MaskRules.Column first = columns.getFirst();
                    sql(psql, conninfo, Masking.update(first.schema(), first.table(), found.get(database).get(table), columns, key),
                            "masking " + table + " in " + database);
                    // the old row versions, their TOAST and index entries go with the table's old files
                    sql(psql, conninfo, "VACUUM FULL " + Masking.identifier(first.schema()) + "." + Masking.identifier(first.table()),
                            "rewriting " + table + " in " + database);
                });
            }
            for (String database : existing) {
                forgetValues(psql, pg.conninfo(superuser, database), database, REFRESH_VIEWS, STATISTICS);
            }
        };
    }

    /** What is done to the promoted copy, connected as {@code superuser}. */
    private interface Work {
        void on(ClientRun psql, StagedServer pg, String superuser);
    }

    /** Copies, recovers, promotes and rewrites {@code recipe}'s parent at {@code at} into a stopped data directory. */
    private Staged make(BranchName name, Recipe recipe, PointInTime at) {
        BranchName parentName = recipe.parent();
        Work work = work(recipe);
        ClientTools tools = ClientTools.newest(System.getenv());
        record Source(Timeline timeline, WalPoint point) {
        }
        Source source = locks.withBranch(repository, parentName, "copied",
                parent -> new Source(parent, points.resolve(parent, parentName, name.value(), at)));
        String superuser = superusers.of(source.timeline().id());
        Path staging = repository.tmpDir().resolve("derive-" + name);
        Path restore = repository.tmpDir().resolve("restore-derive-" + name);
        Path logFile = repository.logsDir().resolve("derive-" + name + ".log");
        try (Operations.Tracker op = operations.begin("branch", null, name)) {
            op.phase("copying the image");
            WalPoint end = archive.whileUsing(() -> {
                RecoveryPlan plan = RecoveryPlan.at(repository, source.timeline(), source.point()).cutWhereWalEnds(repository, livePgWal);
                dataDirs.stageForPrivateRecovery(plan, source.point(), source.timeline().wal().archiveDir(),
                        staging.getFileName().toString(), restore, livePgWal, wal);
                op.phase("recovering");
                try (StagedServer pg = StagedServer.start(pgCtl, staging, StagedServer.Work.DERIVED_ROOT, repository.socketsDir(),
                        logFile, RECOVERY_TIMEOUT)) {
                    ClientRun psql = new ClientRun(tools, Map.of(), logFile);
                    promote(psql, pg.conninfo(superuser, "template1"), source.point().lsn(), logFile);
                    op.phase("rewriting");
                    return rewriteAndStop(pg, psql, superuser, work);
                }
            });
            leaveNothingOld(staging, end);
            op.phase("making the branch");
            return new Staged(staging, restore, end, source.point().lsn(), recipe.what() + " at " + source.point().lsn(), superuser,
                    recipe);
        } catch (RuntimeException e) {
            FileTrees.deleteTree(staging);
            FileTrees.deleteTree(restore);
            throw e;
        }
    }

    /**
     * Masks an imported copy in {@code tmp/} before it becomes a branch ({@code zenith import --mask}): a
     * restored cluster, or a base backup (its start recovers the WAL it holds and ends recovery, as a
     * server restored from a backup does). Returns where the stopped copy stands; its pg_wal then holds
     * only the segment after the switch, so none of the imported WAL may be kept with it.
     */
    WalPoint maskInPlace(Path staging, MaskRules rules, String superuser, String source, ClientTools tools, Path logFile) {
        user.own(repository.socketsDir());
        WalPoint end;
        try (StagedServer pg = StagedServer.start(pgCtl, staging, StagedServer.Work.DERIVED_ROOT, repository.socketsDir(), logFile,
                RECOVERY_TIMEOUT)) {
            end = rewriteAndStop(pg, new ClientRun(tools, Map.of(), logFile), superuser, masking(source, rules));
        }
        leaveNothingOld(staging, end);
        return end;
    }

    /**
     * Does {@code work}, then cuts the WAL: the records of the old values stay behind in the segments before
     * the switch, which the image does not keep.
     */
    private static WalPoint rewriteAndStop(StagedServer pg, ClientRun psql, String superuser, Work work) {
        work.on(psql, pg, superuser);
        sql(psql, pg.conninfo(superuser, "template1"), "SELECT pg_switch_wal()", "switching WAL segments");
        sql(psql, pg.conninfo(superuser, "template1"), "CHECKPOINT", "a checkpoint");
        return pg.stopCleanly();
    }

    /** Leaves in a rewritten, stopped copy what an image keeps, and nothing that held old values. */
    private void leaveNothingOld(Path staging, WalPoint end) {
        try {
            for (String leftover : List.of(DataDirMaker.SIGNAL_FILE, DataDirMaker.PLAN_FILE, "backup_label.old")) {
                Files.deleteIfExists(staging.resolve(leftover));
            }
            // counters, and pg_stat_statements' query texts, which may quote the rows
            for (String statsDir : List.of("pg_stat", "pg_stat_tmp")) {
                FileTrees.deleteTree(staging.resolve(statsDir));
                Files.createDirectories(staging.resolve(statsDir));
                user.own(staging.resolve(statsDir));
            }
            DataDirMaker.trimToImage(staging, end);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish the rewritten copy in " + staging, e);
        }
    }

    /**
     * Ends the private recovery once it reached {@code point}, so the copy takes writes: paused there, it is
     * resumed, which ends recovery at a paused target (a promotion request would wait up to a second for
     * the paused loop to look); when the point is where the parent's WAL ends (a cut, with no record after
     * it to stop before), it is promoted once it replayed up to it.
     */
    private static void promote(ClientRun psql, String conninfo, Lsn point, Path logFile) {
        Deadline deadline = Deadline.in(RECOVERY_TIMEOUT);
        while (true) {
            List<String> state = List.of(sqlOutput(psql, conninfo,
                    "SELECT pg_get_wal_replay_pause_state(), pg_last_wal_replay_lsn()").split("\\|", -1));
            if (state.get(0).equals("paused")) {
                sql(psql, conninfo, "SELECT pg_wal_replay_resume()", "ending the copy's recovery");
                break;
            }
            // the end of the last record replayed, rounded up to the alignment the point has
            if (!state.get(1).isEmpty() && ((Lsn.parse(state.get(1)).value() + 7) & ~7L) >= point.value()) {
                sql(psql, conninfo, "SELECT pg_promote(true, 300)", "promoting the copy");
                break;
            }
            if (deadline.passed()) {
                throw ZenithException.failed("the copy did not reach " + point + " in " + RECOVERY_TIMEOUT.toHours() + " hours",
                        "see " + logFile);
            }
            Deadline.pause(STEP);
        }
        while ("t".equals(sqlOutput(psql, conninfo, "SELECT pg_is_in_recovery()"))) {
            if (deadline.passed()) {
                throw ZenithException.failed("the copy did not end its recovery", "see " + logFile);
            }
            Deadline.pause(STEP);
        }
    }

    /**
     * What holds rows' values outside the tables, gone from a database: its materialized views done {@code views}'s
     * way, its statistics (most common values, histograms; the next ANALYZE makes them again) deleted, and
     * {@code catalogs} rewritten so no deleted tuple stays in a page.
     */
    private static void forgetValues(ClientRun psql, String conninfo, String database, String views, List<String> catalogs) {
        sql(psql, conninfo, views, "the materialized views of " + database);
        sql(psql, conninfo, FORGET_STATISTICS, "deleting the statistics of " + database);
        for (String catalog : catalogs) {
            sql(psql, conninfo, "VACUUM FULL " + catalog, "rewriting " + catalog + " in " + database);
        }
    }

    /**
     * The repository's secret that keys masking hashes, made on first use (owner-only): stable, so a branch
     * masked again gives the same values, and secret, so a hash cannot be matched against guesses.
     */
    private String maskKey() {
        Path file = repository.root().resolve(MASK_KEY);
        try {
            if (!Files.exists(file)) {
                byte[] random = new byte[32];
                new SecureRandom().nextBytes(random);
                AtomicFiles.writePrivate(file, HexFormat.of().formatHex(random).getBytes(StandardCharsets.US_ASCII));
            }
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the masking key " + file, e);
        }
    }

    /** Every database a connection may reach: template0 has no rows of anyone's. */
    private static List<String> databases(ClientRun psql, String conninfo) {
        return sqlOutput(psql, conninfo, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname").lines()
                .map(String::strip).filter(d -> !d.isEmpty()).toList();
    }

    private static void sql(ClientRun psql, String conninfo, String sql, String what) {
        psql.run("psql", List.of("-X", "-w", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql), what);
    }

    private static String sqlOutput(ClientRun psql, String conninfo, String sql) {
        return psql.output("psql", List.of("-X", "-w", "-A", "-t", "-d", conninfo, "-c", sql), "asking the copy").strip();
    }
}
