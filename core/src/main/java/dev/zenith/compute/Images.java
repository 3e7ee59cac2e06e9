package dev.zenith.compute;

import dev.zenith.postgres.PgControl;
import dev.zenith.postgres.OsUser;
import dev.zenith.Lsn;
import dev.zenith.RepositoryConfig;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Keeps the WAL a start replays bounded: when a branch has piled up enough WAL since the image a rebuild
 * would start from, a new image is made, of a running compute by online base backup ({@link ImageMaker}),
 * of a cleanly stopped one by keeping its data directory. Both under the timeline's lock and the shared
 * side of the {@link ArchiveLock}.
 */
final class Images {

    private static final Logger log = LoggerFactory.getLogger(Images.class);
    static final int CLONED_STOP_IMAGE_MB = 16;

    private final Repository repository;
    private final NodeRegistry registry;
    private final TimelineLocks locks;
    private final ComputeSql sql;
    private final DataDirMaker dataDirs;
    private final Operations operations;
    private final OsUser user;
    private final ArchiveLock archive;
    private final FileCopies copies;

    Images(Repository repository, NodeRegistry registry, TimelineLocks locks, ComputeSql sql, DataDirMaker dataDirs,
           Operations operations, OsUser user, ArchiveLock archive, FileCopies copies) {
        this.repository = repository;
        this.registry = registry;
        this.locks = locks;
        this.sql = sql;
        this.dataDirs = dataDirs;
        this.operations = operations;
        this.user = user;
        this.archive = archive;
        this.copies = copies;
    }

    /** Whether {@code current} is far enough past where a rebuild starts replaying to be worth an image. */
    static boolean isDue(Lsn replayFrom, Lsn current, long thresholdBytes) {
        return current.value() - replayFrom.value() >= thresholdBytes;
    }

    /**
     * How much WAL since the last image makes a clean stop keep its data directory as an image: the
     * configured {@code imageAtStopMb}, or by default {@value #CLONED_STOP_IMAGE_MB} MiB where the file
     * system clones (the image shares its blocks with the data directory and costs almost nothing). Where
     * it does not, an image is a full copy of the database: it is made once replaying the WAL would cost
     * about what copying the database costs (replay runs at a fraction of copy speed, so a quarter of the
     * database's size; at least {@value #CLONED_STOP_IMAGE_MB} MiB, at most {@code imageWalThresholdMb}).
     * A branch that changed a little then costs its changes, not a second copy of everything.
     */
    static long stopThresholdBytes(RepositoryConfig config, FileCopies copies, long databaseBytes) {
        if (config.imageAtStopMb() != 0) {
            return (long) config.imageAtStopMb() << 20;
        }
        long floor = (long) CLONED_STOP_IMAGE_MB << 20;
        if (copies == FileCopies.CLONE) {
            return floor;
        }
        return Math.min(Math.max(floor, databaseBytes / 4), (long) config.imageWalThresholdMb() << 20);
    }

    /** Makes an image of every running read-write compute with {@code thresholdBytes} of WAL since its branch's image. */
    void makeWhereDue(long thresholdBytes) {
        for (ComputeNode node : registry.all()) {
            if (node.isReadOnly() || !registry.paths(node).isRunning()) {
                continue;
            }
            locks.withLock(node.timeline(), () -> archive.whileUsing(() -> {
                makeIfDue(node, thresholdBytes);
                return null;
            }));
        }
    }

    private void makeIfDue(ComputeNode node, long thresholdBytes) {
        NodePaths paths = registry.paths(node);
        try {
            if (!paths.isRunning()) {
                return;
            }
            Timeline timeline = repository.timeline(node.timeline());
            Lsn replayFrom = RecoveryPlan.latest(repository, timeline).image().walStart();
            Lsn current = sql.currentLsn(node, paths.logFile());
            if (!isDue(replayFrom, current, thresholdBytes)) {
                return;
            }
            log.info("making an image of {} at about {} ({} MiB of WAL since {})", node.name(), current,
                    (current.value() - replayFrom.value()) >> 20, replayFrom);
            Path staging = repository.tmpDir().resolve("image-" + node.name());
            try (Connection c = sql.connect(node);
                 Operations.Tracker op = operations.begin("image", node.name(), registry.branchOf(node))) {
                op.phase("making image", () -> FileTrees.sizeOf(paths.dataDir()), () -> FileTrees.sizeOf(staging));
                var image = ImageMaker.make(c, paths.dataDir(), staging, timeline, user);
                ComputeMetrics.IMAGES_MADE.inc();
                log.info("image of {} made at {}", node.name(), image.lsn());
            }
        } catch (SQLException | RuntimeException e) {
            log.error("cannot make an image of {}", node.name(), e);
        }
    }

    /**
     * After a clean stop with more than {@link #stopThresholdBytes} of WAL since the image a rebuild would use,
     * the stopped data directory becomes a clean image; a branch made from the stopped parent then starts
     * from it with nothing to replay.
     */
    void keepStoppedIfDue(ComputeNode node, NodePaths paths, Timeline timeline) {
        Path dataDir = paths.dataDir();
        if (!DataDirMaker.isPromoted(dataDir)) {
            return;
        }
        PgControl control = PgControl.read(dataDir);
        if (!control.clean()) {
            return;
        }
        long threshold = stopThresholdBytes(repository.config(), copies,
                copies == FileCopies.CLONE ? 0 : FileTrees.sizeOf(dataDir) - FileTrees.sizeOf(dataDir.resolve("pg_wal")));
        Lsn replayFrom = RecoveryPlan.latest(repository, timeline).image().walStart();
        if (!isDue(replayFrom, control.checkpoint().lsn(), threshold)) {
            return;
        }
        archive.whileUsing(() -> {
            try (Operations.Tracker op = operations.begin("image", node.name(), registry.branchOf(node))) {
                dataDirs.keepAsImage(node, dataDir, timeline, control.checkpoint(), op);
            }
            return null;
        });
        ComputeMetrics.IMAGES_MADE.inc();
        log.info("kept the stopped data directory of {} as an image at {}", node.name(), control.checkpoint().lsn());
    }
}
