package dev.zenith.compute;

import dev.zenith.Deadline;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgControl;
import dev.zenith.postgres.PgCtl;
import dev.zenith.source.ClientRun;
import dev.zenith.source.ClientTools;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalFileName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * New images of a followed branch as its source's WAL arrives, so that a branch made a week after the
 * import replays at most {@code imageWalThresholdMb} of WAL, as a branch of a running compute does. No
 * compute runs on a followed branch to take a base backup of, so the newest image is copied and
 * recovered here, privately, as a standby up to the end of what arrived, then shut down in recovery:
 * a restartpoint, from whose redo replay starts ({@link Image#REPLAY_FROM}), consistent at that end.
 *
 * <p>Locks: the timeline's, only to settle its end (as a branch does); then the archive's shared lock
 * for the copy, the recovery and the new image, so a collection never removes the WAL it reads.
 */
final class FollowedImages {

    private static final Logger log = LoggerFactory.getLogger(FollowedImages.class);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofHours(2);
    private static final Duration STALL_TIMEOUT = Duration.ofMinutes(1);

    private final Repository repository;
    private final TimelineLocks locks;
    private final ArchiveLock archive;
    private final DataDirMaker dataDirs;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final PostgresConfig.WalSettings wal;

    FollowedImages(Repository repository, TimelineLocks locks, ArchiveLock archive, DataDirMaker dataDirs, PgCtl pgCtl, OsUser user,
                   PostgresConfig.WalSettings wal) {
        this.repository = repository;
        this.locks = locks;
        this.archive = archive;
        this.dataDirs = dataDirs;
        this.pgCtl = pgCtl;
        this.user = user;
        this.wal = wal;
    }

    /**
     * Makes an image of {@code timeline} at the end of what arrived when more than the threshold of WAL
     * came since the newest one; {@code settle} brings that end up to date (under the timeline's lock).
     */
    void makeIfDue(Timeline timeline, Function<Timeline, WalPoint> settle, ClientTools tools) {
        long threshold = (long) repository.config().imageWalThresholdMb() << 20;
        // measured from where the newest image is consistent: its replay starts earlier, at the source's last
        // checkpoint before it, which no image made here can move
        Lsn newest = RecoveryPlan.latest(repository, timeline).image().lsn();
        WalPoint end = locks.withLock(timeline.id(), () -> settle.apply(timeline));
        if (!Images.isDue(newest, end.lsn(), threshold)) {
            return;
        }
        log.info("making an image of followed timeline {} at {} ({} MiB of WAL since its newest image)", timeline.id(),
                end.lsn(), (end.lsn().value() - newest.value()) >> 20);
        archive.whileUsing(() -> {
            make(timeline, end, tools);
            return null;
        });
    }

    private void make(Timeline timeline, WalPoint end, ClientTools tools) {
        RecoveryPlan plan = RecoveryPlan.latest(repository, timeline).cutWhereWalEnds(repository, id -> Optional.empty());
        String name = "follow-" + timeline.id();
        Path staging = repository.tmpDir().resolve("image-" + name);
        Path restore = repository.tmpDir().resolve("restore-" + name);
        Path logFile = repository.logsDir().resolve("follow-" + timeline.id() + ".log");
        try {
            dataDirs.stageForPrivateRecovery(plan, end, timeline.wal().archiveDir(), staging.getFileName().toString(), restore,
                    id -> Optional.empty(), wal);
            String superuser = Optional.ofNullable(timeline.metadata().superuser()).orElse(repository.config().superuser());
            PgControl stopped;
            try (StagedServer pg = StagedServer.start(pgCtl, staging, StagedServer.Work.FOLLOWED_IMAGE, repository.socketsDir(), logFile,
                    RECOVERY_TIMEOUT)) {
                ClientRun psql = new ClientRun(tools, Map.of(), logFile);
                String conninfo = pg.conninfo(superuser, "template1");
                // a recovery that stops moving short of the end waits for WAL that will not come: said, not waited out
                Lsn last = new Lsn(0);
                Deadline stalled = Deadline.in(STALL_TIMEOUT);
                for (Lsn at = replayed(psql, conninfo); at.compareTo(end.lsn()) < 0; at = replayed(psql, conninfo)) {
                    if (at.compareTo(last) > 0) {
                        last = at;
                        stalled = Deadline.in(STALL_TIMEOUT);
                    } else if (stalled.passed()) {
                        throw ZenithException.failed("the image of " + timeline.id() + " stopped replaying at " + at + ", short of "
                                + end.lsn(), "see " + logFile);
                    }
                    Deadline.pause(Duration.ofMillis(100));
                }
                // a restartpoint now, so the shutdown's own one has little left to write
                psql.run("psql", List.of("-X", "-w", "-d", conninfo, "-c", "CHECKPOINT"), "a restartpoint");
                pg.stopCleanly();
                stopped = PgControl.read(staging);
            }
            for (String leftover : List.of(DataDirMaker.SIGNAL_FILE, DataDirMaker.PLAN_FILE)) {
                Files.deleteIfExists(staging.resolve(leftover));
            }
            DataDirMaker.trimToImage(staging, stopped.checkpoint());
            Files.writeString(staging.resolve(Image.REPLAY_FROM), stopped.redo() + "\n");
            timeline.addImage(staging, end);
            log.info("image of followed timeline {} made at {}; replay from it starts at {} (segment {})", timeline.id(), end.lsn(),
                    stopped.redo(), WalFileName.segmentOf(stopped.checkpoint().tli(), stopped.redo()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make an image of followed timeline " + timeline.id(), e);
        } finally {
            FileTrees.deleteTree(staging);
            FileTrees.deleteTree(restore);
        }
    }

    /** Where the private standby's replay stands, rounded up to a record's alignment as the end it goes to is. */
    private static Lsn replayed(ClientRun psql, String conninfo) {
        String answer = psql.output("psql", List.of("-X", "-w", "-A", "-t", "-d", conninfo, "-c", "SELECT pg_last_wal_replay_lsn()"),
                "asking the image's recovery how far it got").strip();
        return answer.isEmpty() ? new Lsn(0) : new Lsn((Lsn.parse(answer).value() + 7) & ~7L);
    }
}
