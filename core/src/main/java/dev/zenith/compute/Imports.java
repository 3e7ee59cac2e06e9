package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.MaskRules;
import dev.zenith.Failpoints;
import dev.zenith.RepositoryConfig;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.model.ImportMethod;
import dev.zenith.model.ImportResult;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.postgres.PgDistributions;
import dev.zenith.source.ClientRun;
import dev.zenith.source.ClientTools;
import dev.zenith.source.DumpFilter;
import dev.zenith.source.DumpRestore;
import dev.zenith.source.Source;
import dev.zenith.source.SourceFacts;
import dev.zenith.source.SourceServer;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Following;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.TimelineFiller;
import dev.zenith.storage.Repository;
import dev.zenith.storage.WalArchive;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.Writeback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@code zenith import}: makes a new root branch from a database that lives elsewhere. A server that
 * takes a replication connection, of a major version zenith runs, is copied physically (a base backup
 * kept as the branch's first image: every database, role and extension byte for byte, at the source's
 * own version); any other server, or one asked to, is dumped and restored into a fresh cluster
 * (logical), as a dump file is. Everything is made under {@code tmp/} and becomes a branch only at the
 * end, so a failure, an interrupted import or a daemon killed midway leaves nothing (tmp/ is emptied at
 * every daemon start). No lock is held while copying: the new branch touches no other timeline until it
 * is named, which happens under the archive's shared lock as a branch creation does.
 */
public final class Imports {

    private static final Logger log = LoggerFactory.getLogger(Imports.class);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(30);
    private static final int JOBS = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private final Repository repository;
    private final PgDistributions dists;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final ArchiveLock archive;
    private final Operations operations;
    private final DerivedRoots derivedRoots;
    private final Followers followers;

    Imports(Repository repository, PgDistributions dists, OsUser user, ArchiveLock archive, Operations operations,
            Followers followers, DerivedRoots derivedRoots) {
        this.derivedRoots = derivedRoots;
        this.repository = repository;
        this.dists = dists;
        this.pgCtl = new PgCtl(dists, user);
        this.user = user;
        this.archive = archive;
        this.operations = operations;
        this.followers = followers;
    }

    /** What the user asked for: the method only as a wish, since a server may not allow a physical copy. */
    public record Request(Source source, Optional<BranchName> as, Optional<Integer> pgVersion, boolean logical,
                          DumpFilter filter, Optional<Follow> follow, Optional<MaskRules> mask, Map<String, String> callerEnv) {
    }

    /** {@code --follow}: keep receiving the source's WAL after the copy, through a replication slot when named. */
    public record Follow(Optional<String> slot) {
    }

    /** Imports {@code request.source()} as a new root branch. */
    public ImportResult run(Request request) {
        long started = System.nanoTime();
        request.pgVersion().ifPresent(dists::of); // an unsupported version is refused before any work
        ClientTools tools = ClientTools.newest(request.callerEnv());
        Path logFile = repository.logsDir().resolve("import.log");
        String id = TimelineId.generate().value();
        Path staging = repository.tmpDir().resolve("import-" + id);
        Path dumpDir = repository.tmpDir().resolve("import-" + id + ".dump");
        BranchName pending = request.as().orElse(null);
        try (Operations.Tracker op = operations.begin("import", null, pending)) {
            Made copied = switch (request.source()) {
                case Source.Server server -> fromServer(server, request, new ClientRun(tools, request.callerEnv(), logFile),
                        staging, dumpDir, op);
                case Source.Dump dump -> {
                    BranchName name = nameFor(request, stem(dump.path()));
                    yield logical(dump, new ClientRun(tools, request.callerEnv(), logFile).local(), name,
                            makeCluster(request.pgVersion().orElse(dists.own().major()), staging), staging, op, null);
                }
            };
            Made made = request.mask().isEmpty() ? copied : masked(copied, request.mask().get(), request, staging, tools, logFile, op);
            String method = made.method().name().toLowerCase(java.util.Locale.ROOT) + (request.mask().isPresent() ? ", masked" : "");
            op.phase("making the branch");
            long bytes = FileTrees.sizeOf(staging);
            String origin = request.source().shown() + " (" + method + ")";
            Timeline root = archive.whileUsing(() -> repository.createRoot(made.name(), staging, made.end(), origin, made.superuser(),
                    made.wal()));
            request.follow().ifPresent(f -> followers.follow(root));
            long millis = (System.nanoTime() - started) / 1_000_000;
            log.info("imported {} as branch {} ({}, PostgreSQL {}, {} bytes, {} ms)", request.source().shown(), made.name(),
                    made.method(), made.pgVersion(), bytes, millis);
            return new ImportResult(made.name().value(), request.source().shown(), made.method(), made.why(), made.pgVersion(),
                    made.database(), made.superuser() == null ? repository.config().superuser() : made.superuser(),
                    request.follow().isPresent(), request.mask().isPresent(), bytes, millis);
        } finally {
            FileTrees.deleteTree(staging);
            FileTrees.deleteTree(dumpDir);
        }
    }

    /**
     * The copy masked in place before it is a branch: started privately, masked, stopped at a new end. The
     * copy's own WAL held the values before masking, so none of it is kept with the branch.
     */
    private Made masked(Made copied, MaskRules rules, Request request, Path staging, ClientTools tools, Path logFile,
                        Operations.Tracker op) {
        op.phase("masking");
        String superuser = copied.superuser() == null ? repository.config().superuser() : copied.superuser();
        WalPoint end = derivedRoots.maskInPlace(staging, rules, superuser, request.source().shown(), tools, logFile);
        return new Made(copied.name(), end, copied.method(), copied.why(), copied.pgVersion(), copied.database(), copied.superuser(),
                timelineDir -> { });
    }

    /** A data directory that stands at {@code end} (stopped cleanly, or a base backup ending there), to become branch {@code name}. */
    private record Made(BranchName name, WalPoint end, ImportMethod method, String why, int pgVersion, String database,
                        String superuser, TimelineFiller wal) {

        Made(BranchName name, WalPoint end, ImportMethod method, String why, int pgVersion, String database) {
            this(name, end, method, why, pgVersion, database, null, timeline -> { });
        }
    }

    private Made fromServer(Source.Server source, Request request, ClientRun run, Path staging, Path dumpDir, Operations.Tracker op) {
        SourceServer server = new SourceServer(source, run);
        op.phase("asking the source");
        SourceFacts facts = server.probe();
        run.tools().requireAtLeast(facts.major(), "the source " + source.shown());
        BranchName name = nameFor(request, facts.database());
        String why = whyLogical(request, facts, server);
        Failpoints.reach("import-asked");
        if (request.follow().isPresent()) {
            if (why != null) {
                throw ZenithException.badRequest("--follow needs a physical copy, and " + source.shown()
                        + " would be imported logically: " + why, "give a role with REPLICATION that pg_hba.conf lets in"
                        + " for replication, or import without --follow");
            }
        }
        if (why == null) {
            PgDistribution dist = dists.of(facts.major()); // fetched now if need be, before the copy
            return physical(server, source, facts, name, dist, staging, request, op);
        }
        log.info("importing {} logically: {}", source.shown(), why);
        CompletableFuture<Void> cluster = makeCluster(logicalVersion(request, facts), staging); // while the source is dumped
        op.phase("dumping", facts::databaseBytes, () -> FileTrees.sizeOf(dumpDir));
        try {
            server.dump(dumpDir, request.filter(), JOBS);
            Failpoints.reach("import-dumped");
        } catch (RuntimeException e) {
            cluster.exceptionally(ignored -> null).join(); // done with the staging before the caller removes it
            throw e;
        }
        return logical(new Source.Dump(dumpDir, Source.DumpFormat.DIRECTORY), run.local(), name, cluster, staging, op, why);
    }

    /** Runs initdb of {@code major} into {@code staging} on a thread of its own: the cluster a dump is restored into. */
    private CompletableFuture<Void> makeCluster(int major, Path staging) {
        PgDistribution dist = dists.of(major);
        return CompletableFuture.runAsync(() -> DataDirMaker.initdb(repository, pgCtl, dist, user, staging),
                r -> Thread.ofVirtual().name("import-initdb").start(r));
    }

    /** Why a server is imported logically, or null when it can be copied physically. */
    private static String whyLogical(Request request, SourceFacts facts, SourceServer server) {
        if (request.logical()) {
            return "--logical was given";
        }
        if (!request.filter().isEverything()) {
            return "a part of the database was asked for (--schema, --table, --exclude-table-data, --schema-only)";
        }
        if (!RepositoryConfig.PG_VERSIONS.contains(facts.major())) {
            return "the source runs PostgreSQL " + facts.major() + ", which zenith does not run (it runs "
                    + RepositoryConfig.PG_VERSIONS + ")";
        }
        if (request.pgVersion().isPresent() && request.pgVersion().get() != facts.major()) {
            return "--pg-version " + request.pgVersion().get() + " was asked for and the source runs PostgreSQL " + facts.major();
        }
        if (!facts.mayReplicate()) {
            return "role " + facts.user() + " has no REPLICATION attribute on the source (ALTER ROLE " + facts.user()
                    + " REPLICATION allows a physical copy)";
        }
        if (!server.acceptsReplication()) {
            return "the source does not take a replication connection from this machine (its pg_hba.conf, or"
                    + " max_wal_senders = 0)";
        }
        return null;
    }

    /**
     * Makes a copied data directory start here: no signal files or pid of the source's, a pg_hba.conf that
     * lets zenith in (every compute start writes its own), the line that includes zenith.conf, owned by
     * the Postgres OS user.
     */
    private void prepareCopy(Path staging) {
        try {
            for (String leftover : List.of("standby.signal", "recovery.signal", "postmaster.pid", "postmaster.opts",
                    "backup_manifest")) {
                Files.deleteIfExists(staging.resolve(leftover));
            }
            Files.writeString(staging.resolve("pg_hba.conf"), "local all all trust\n");
            if (!Files.exists(staging.resolve("pg_ident.conf"))) {
                Files.writeString(staging.resolve("pg_ident.conf"), "");
            }
            DataDirMaker.includeZenithConf(staging);
            user.ownTree(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the copy in " + staging, e);
        }
    }

    /**
     * A physical copy: the base backup itself is the branch's first image, recovering from its
     * {@code backup_label} wherever a branch of it starts, and the WAL it came with begins the timeline's
     * history; with {@code --follow}, the source's WAL goes on arriving there ({@link Followers}). The
     * data is the source's untouched, so zenith logs in as the source's superuser, and a compute's first
     * start adds the repository's ({@link ComputeSql#ensureToolsRole}). Nothing recovers here: the import
     * costs the copy and one sync of it.
     */
    private Made physical(SourceServer server, Source.Server source, SourceFacts facts, BranchName name, PgDistribution dist,
                          Path staging, Request request, Operations.Tracker op) {
        op.phase("copying", facts::clusterBytes, () -> FileTrees.sizeOf(staging));
        Optional<Follow> follow = request.follow();
        WalPoint end;
        try (Writeback writeback = Writeback.start(staging)) {
            end = server.baseBackup(staging, follow.flatMap(Follow::slot));
            Failpoints.reach("import-copied");
            prepareCopy(staging);
            op.phase("writing to disk");
            writeback.finish();
        }
        Path copiedWal = staging.resolve("pg_wal");
        WalFileName openSegment = WalFileName.segmentOf(end.tli(), end.lsn());
        TimelineFiller wal = timelineDir -> {
            WalArchive archive = new WalArchive(timelineDir);
            archive.takeCopiedWal(copiedWal, openSegment);
            if (follow.isPresent()) {
                Followers.resumeAfterCopy(archive, openSegment);
                new Following(source.conninfo(), request.callerEnv(), follow.get().slot().orElse(null), Instant.now())
                        .writeInto(timelineDir);
            }
            user.ownTree(archive.archiveDir()); // its files are the OS user's already (prepareCopy), the archive not yet
        };
        return new Made(name, end, ImportMethod.PHYSICAL, null, dist.major(), facts.database(), facts.bootstrapSuperuser(), wal);
    }

    private Made logical(Source.Dump dump, ClientRun local, BranchName name, CompletableFuture<Void> cluster, Path staging,
                         Operations.Tracker op, String why) {
        DumpRestore restore = new DumpRestore(local);
        String database;
        java.util.Set<String> roles;
        try {
            database = restore.databaseOf(dump).orElse("postgres");
            roles = restore.roles(dump);
            op.phase("making a cluster");
            cluster.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        } finally {
            cluster.exceptionally(ignored -> null).join();
        }
        long dumpBytes = FileTrees.sizeOf(dump.path());
        op.phase("restoring", () -> dumpBytes, () -> FileTrees.sizeOf(staging));
        WalPoint end;
        String superuser = repository.config().superuser();
        try (StagedServer pg = startStaged(staging, StagedServer.Work.RESTORE, local.log())) {
            restore.prepare(pg.conninfo(superuser, "postgres"), roles, database);
            restore.restore(dump, pg.conninfo(superuser, database), JOBS);
            Failpoints.reach("import-restored");
            pg.stopCleanly();
        }
        op.phase("settling the cluster");
        try (StagedServer pg = startStaged(staging, StagedServer.Work.AS_CONFIGURED, local.log())) {
            end = pg.stopCleanly();
        }
        trim(staging, end);
        return new Made(name, end, ImportMethod.LOGICAL, why, PgDistributions.majorOf(staging), database);
    }

    private StagedServer startStaged(Path dataDir, StagedServer.Work work, Path logFile) {
        user.own(repository.socketsDir());
        return StagedServer.start(pgCtl, dataDir, work, repository.socketsDir(), logFile, START_TIMEOUT);
    }

    private static void trim(Path staging, WalPoint end) {
        try {
            DataDirMaker.trimToImage(staging, end);
            Files.deleteIfExists(staging.resolve("backup_label.old"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the image in " + staging, e);
        }
    }

    /**
     * The version a server's dump is restored into: the one asked for, else the source's own when zenith runs
     * it (the branch then behaves as production does, as a physical copy would), else the repository's.
     */
    private int logicalVersion(Request request, SourceFacts facts) {
        return request.pgVersion().orElseGet(
                () -> RepositoryConfig.PG_VERSIONS.contains(facts.major()) ? facts.major() : dists.own().major());
    }

    /** The branch's name: the one asked for, else the source's (its database, a dump's file name). */
    private BranchName nameFor(Request request, String fromSource) {
        BranchName name = request.as().orElseGet(() -> {
            if (!BranchName.isSafeName(fromSource)) {
                throw ZenithException.badRequest("\"" + BranchName.printable(fromSource) + "\" cannot be a branch name",
                        "name the branch with --as NAME");
            }
            return BranchName.of(fromSource);
        });
        if (repository.branches().get(name).isPresent()) {
            throw ZenithException.conflict("branch \"" + name + "\" already exists",
                    "name the imported branch with --as NAME, or delete the old one first");
        }
        return name;
    }

    private static String stem(Path dump) {
        String file = dump.getFileName().toString();
        for (String ext : List.of(".dump", ".sql", ".tar", ".backup", ".pgdump")) {
            if (file.endsWith(ext)) {
                return file.substring(0, file.length() - ext.length());
            }
        }
        return file;
    }
}
