package dev.zenith.compute;

import dev.zenith.postgres.PgControl;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.postgres.PgDistributions;
import dev.zenith.AtomicFiles;
import dev.zenith.BranchName;
import dev.zenith.Failpoints;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
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
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Makes data directories from the repository, the twin of {@link ImageMaker}: a compute's, as a copy of
 * the image its recovery plan starts from (reflinked where the file system can) set to recover by that
 * plan at its first start; and the very first one, by initdb, for a new repository.
 */
final class DataDirMaker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DataDirMaker.class);

    /**
     * What makes a prepared data directory recover, read-write and read-only alike: standby mode. A
     * standby takes a promotion request only once it has replayed all the WAL it can restore (or at its
     * paused target), and the promotion then checkpoints in the background; archive recovery
     * ({@code recovery.signal}, which data directories prepared by older versions still carry) ends by
     * itself with a checkpoint the first client waits for.
     */
    static final String SIGNAL_FILE = "standby.signal";
    private static final String OLD_SIGNAL_FILE = "recovery.signal";

    /** The plan a prepared data directory recovers by, saved beside it so its first start replays exactly that. */
    static final String PLAN_FILE = "zenith-recovery-plan.json";

    /** Images with a spare copy at a time: parents that branches are made from in a row. */
    private static final int SPARES = 4;

    private final Repository repository;
    private final OsUser user;
    private final SpareDataDirs spares;
    private final ArchiveLock archive;

    /** Spares are copied under the archive's shared lock, as recoveries read: a collection never removes an image mid-copy. */
    DataDirMaker(Repository repository, OsUser user, FileCopies copies, ArchiveLock archive) {
        this.repository = repository;
        this.user = user;
        this.archive = archive;
        this.spares = new SpareDataDirs(repository.config().keepsSpares() ? SPARES : 0, spareBudget(repository, copies), repository.tmpDir(), this::copyToRecover);
    }

    /**
     * What spares may hold: clones cost inodes; copies that are written cost the image's size each, within
     * {@code spareDiskMb} or by default a tenth of the free space (the spares' own bytes counted as free).
     */
    private static SpareDataDirs.Budget spareBudget(Repository repository, FileCopies copies) {
        if (copies == FileCopies.CLONE) {
            return SpareDataDirs.Budget.CLONES;
        }
        int mb = repository.config().spareDiskMb();
        return new SpareDataDirs.Budget(held -> mb == 0 ? (usableSpace(repository.tmpDir()) + held) / 10 : mb * (1L << 20),
                image -> FileTrees.sizeOf(image.dataDir()));
    }

    private static long usableSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Whether a standby spare's copy of {@code image} fits the spares' budget: free where copies are clones,
     * the image's size where they are written.
     */
    boolean standbyFits(Image image) {
        return spares.fitsBeside(image);
    }

    /** The spare copies of images ready now, and what they may hold. */
    SpareDataDirs.State spares() {
        return spares.state();
    }

    /** Runs initdb for a new repository and makes the result the root timeline's first image. */
    static void initRoot(Repository repository, PgDistribution dist, OsUser user) {
        Path staging = repository.tmpDir().resolve("initdb");
        initdb(repository, new PgCtl(new PgDistributions(dist, msg -> { }), user), dist, user, staging);
        PgControl control = PgControl.read(staging);
        repository.createRoot(BranchName.MAIN, staging, control.checkpoint(), null, null, timeline -> { });
    }

    /**
     * Runs initdb of {@code dist} into {@code staging} (emptied first), for the repository's superuser, with
     * the line that includes zenith's settings at every start.
     */
    static void initdb(Repository repository, PgCtl pgCtl, PgDistribution dist, OsUser user, Path staging) {
        FileTrees.deleteTree(staging);
        try {
            Files.createDirectories(staging);
            user.own(staging);
            pgCtl.initdb(dist, staging, repository.config().superuser(), repository.logsDir().resolve("initdb.log"));
            includeZenithConf(staging);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + staging, e);
        }
    }

    /** Makes a data directory's postgresql.conf (made empty when it has none) include the settings zenith writes before every start. */
    static void includeZenithConf(Path dataDir) throws IOException {
        Files.writeString(dataDir.resolve("postgresql.conf"), "\ninclude_if_exists = '" + PostgresConfig.FILE + "'\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Makes a node's data directory: a copy of the plan's image (a spare one when ready), set to recover
     * by that plan at first start; then has the next spare of that image made.
     */
    void prepare(ComputeNode node, NodePaths paths, Timeline timeline, Operations.Tracker op) {
        RecoveryPlan plan = node.mode() instanceof ComputeMode.ReadOnly r
                ? RecoveryPlan.at(repository, timeline, r.at())
                : RecoveryPlan.latest(repository, timeline);
        Optional<Path> spare = spares.take(plan.image());
        Path staging = spare.orElseGet(
                () -> readyToRecover(stage(plan.image().dataDir(), "datadir-" + node.name(), op, "copying image")));
        Failpoints.reach("compute-staged");
        try {
            savePlan(staging, plan, user);
            FileTrees.deleteTree(paths.dataDir());
            AtomicFiles.moveDurably(staging, paths.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the data directory of " + node.name(), e);
        }
        spares.replenish(plan.image());
        log.info("prepared {} for timeline {} from {}image {}{}", node.name(), timeline.id(), spare.isPresent() ? "a spare copy of " : "",
                plan.image().lsn(), plan.stopBefore().map(l -> ", replay stops before " + l).orElse(""));
    }

    /**
     * A copy of {@code plan}'s image in {@code tmp/NAME}, set to recover privately by {@code plan} up to {@code to}
     * as a read-only view of it would ({@code restore} gets its WAL, from {@code archiveDir} and {@code livePgWal}):
     * where an image of a followed branch and a derived root are made.
     */
    Path stageForPrivateRecovery(RecoveryPlan plan, WalPoint to, Path archiveDir, String name, Path restore,
                                 Function<TimelineId, Optional<Path>> livePgWal, PostgresConfig.WalSettings wal) {
        Path staging = readyToRecover(copyInto(plan.image().dataDir(), name));
        plan.writeRestoreView(repository, restore, livePgWal);
        user.ownTree(restore);
        // its port and socket are the private start's own, given on the command line over these
        Path conf = staging.resolve(PostgresConfig.FILE);
        AtomicFiles.write(conf, PostgresConfig.zenithConf(5432, repository.socketsDir(), new ComputeMode.ReadOnly(to), archiveDir,
                plan, restore, wal).getBytes(StandardCharsets.UTF_8));
        user.own(conf);
        user.own(repository.socketsDir());
        return staging;
    }

    /** A copy of {@code image} in {@code tmp/NAME}, ready to recover, made under the archive's shared lock. */
    Path copyToRecover(Image image, String name) {
        return archive.whileUsing(() -> readyToRecover(copyInto(image.dataDir(), name)));
    }

    /** Removes spare copies unused for a while, or of images that are gone. */
    void pruneSpares(Instant now) {
        spares.prune(now);
    }

    @Override
    public void close() {
        spares.close();
    }

    /**
     * Makes a staged copy of an image ready to recover: in standby mode, owned by the Postgres OS user,
     * closed to others as Postgres requires.
     */
    private Path readyToRecover(Path staging) {
        try {
            Files.deleteIfExists(staging.resolve(Image.REPLAY_FROM)); // the image's own note, not the copy's
            Files.createFile(staging.resolve(SIGNAL_FILE));
            user.ownTree(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            FileTrees.deleteTree(staging);
            throw new UncheckedIOException("cannot prepare " + staging + " to recover", e);
        }
        return staging;
    }

    /** Whether a data directory is still to recover: made from an image and never promoted. */
    static boolean isRecovering(Path dataDir) {
        return Files.exists(dataDir.resolve(SIGNAL_FILE)) || Files.exists(dataDir.resolve(OLD_SIGNAL_FILE));
    }

    /**
     * Whether a data directory has been promoted: it exists and has finished its first recovery, so its
     * WAL, not its branch point, is where the timeline ends.
     */
    static boolean isPromoted(Path dataDir) {
        return Files.exists(dataDir.resolve("global").resolve("pg_control")) && !isRecovering(dataDir);
    }

    /** Saves the plan a data directory recovers by beside it, owned by the Postgres user as the rest. */
    static void savePlan(Path dataDir, RecoveryPlan plan, OsUser user) {
        Path planFile = dataDir.resolve(PLAN_FILE);
        AtomicFiles.writeJson(planFile, plan);
        user.own(planFile);
    }

    /** The plan saved in a data directory that is still to recover (its signal file is there); null when none was saved. */
    static RecoveryPlan pendingPlan(Path dataDir) {
        Path planFile = dataDir.resolve(PLAN_FILE);
        return Files.exists(planFile) ? AtomicFiles.readJson(planFile, RecoveryPlan.class) : null;
    }

    /**
     * Copies a data directory into {@code tmp/NAME} (emptied first), showing the copy as operation
     * {@code op}'s phase; the caller moves the copy where it belongs.
     */
    Path stage(Path source, String name, Operations.Tracker op, String phase) {
        op.phase(phase, () -> FileTrees.sizeOf(source), () -> FileTrees.sizeOf(repository.tmpDir().resolve(name)));
        return copyInto(source, name);
    }

    /** Copies a data directory into {@code tmp/NAME}, emptied first. */
    private Path copyInto(Path source, String name) {
        Path staging = repository.tmpDir().resolve(name);
        FileTrees.deleteTree(staging);
        copyTree(source, staging);
        return staging;
    }

    /**
     * Keeps a cleanly stopped data directory as an image at its shutdown checkpoint: a copy with, of
     * pg_wal, only the segment holding that checkpoint.
     */
    void keepAsImage(ComputeNode node, Path dataDir, Timeline timeline, WalPoint checkpoint, Operations.Tracker op) {
        Path staging = stage(dataDir, "image-" + node.name(), op, "making image");
        try {
            trimToImage(staging, checkpoint);
        } catch (IOException e) {
            FileTrees.deleteTree(staging);
            throw new UncheckedIOException("cannot prepare the image of " + node.name(), e);
        }
        timeline.addImage(staging, checkpoint);
    }

    /**
     * Leaves in a cleanly stopped data directory what an image keeps: of pg_wal, only the segment holding
     * the shutdown checkpoint, and not the command line of its last start.
     */
    static void trimToImage(Path dataDir, WalPoint checkpoint) throws IOException {
        String keep = dev.zenith.storage.WalFileName.segmentOf(checkpoint.tli(), checkpoint.lsn()).toString();
        try (var wal = Files.list(dataDir.resolve("pg_wal"))) {
            for (Path f : wal.toList()) {
                if (Files.isRegularFile(f) && !f.getFileName().toString().equals(keep)) {
                    Files.delete(f);
                }
            }
        }
        Files.deleteIfExists(dataDir.resolve("postmaster.opts"));
    }

    /** Copies a directory tree, cloning file extents where the file system can (reflink, APFS clones). */
    private static void copyTree(Path source, Path target) {
        List<String> cmd = new ArrayList<>(PgDistribution.isLinux()
                ? List.of("cp", "-a", "--reflink=auto") : List.of("cp", "-c", "-pR"));
        cmd.add(source.toString());
        cmd.add(target.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw ZenithException.failed("cannot copy " + source + " to " + target + ": " + out.trim(),
                        "check free disk space");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run cp", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted while copying " + source, null);
        }
    }
}
