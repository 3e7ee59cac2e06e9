package dev.zenith.compute;

import dev.zenith.AtomicFiles;
import dev.zenith.Deadline;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.PostmasterStatus;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A Postgres started ahead of the next new branch, as Neon keeps computes started ahead of need. After a branch
 * started from an image at exactly its branch point (nothing to stop before), a copy of that image is started
 * in the background as a standby with the same view of the archive, under the name and port the next node will
 * take ({@link NodeRegistry#reserve}). A branch made at the same point then takes it ({@link #take}): its node is
 * registered under that name and port, and its first start only points Postgres at the branch's own archive and
 * promotes it, without the copy, the spawn and the recovery to a consistent state.
 *
 * <p>Where the WAL it recovers can no longer grow (no compute of an ancestor runs), the spare is also promoted
 * ahead ({@link Spare.Running#promotedFor}): the promotion's copy of the parent's last segment (30 to 45 ms,
 * docs/ARCHITECTURE.md) is then paid before any branch asks. Its archive is a link ({@link SpareWal}) to a
 * directory of its own; a branch at the same point that takes it gets the files archived so far, and the link
 * is pointed at the branch's archive first, so what the archiver writes after goes there too ({@link #rehome}).
 *
 * <p>One at a time. Never a compute: not listed, not counted against maxComputes, and running only while one
 * more Postgres fits under it ({@code hasRoom}), stopped ({@link #discard}) when a start needs the place. A
 * spare left by a daemon that died is found by its note ({@value #NOTE}) and removed at the next start.
 *
 * <p>Locks: this object's monitor guards {@code spare}, {@code retiredLinks} and {@code takenFor}; a spare is made
 * and stopped on this object's thread or the caller's, outside the monitor.
 */
final class StandbySpare implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandbySpare.class);
    /** In a spare's data directory until a branch takes it. */
    static final String NOTE = "zenith-standby-spare";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STATUS_STEP = Duration.ofMillis(2);
    /** How long a taken spare's archive link stays, for an archiver that has not read its new settings yet. */
    private static final Duration LINK_KEPT = Duration.ofMinutes(1);

    /**
     * What a spare recovered: the image it was copied from and the archive files its restore view offers, all of
     * the branch's ancestors; a branch's own timeline is left out of a spare's plan (a sibling has its own).
     */
    record Key(Path image, Map<String, String> view) {
        static Key of(RecoveryPlan ancestors, Repository repository, Function<TimelineId, Optional<Path>> livePgWal) {
            Map<String, String> view = new TreeMap<>();
            ancestors.files(repository, livePgWal).forEach((name, file) -> view.put(name.toString(), file.path().toString()));
            return new Key(ancestors.image().dataDir(), view);
        }
    }

    /**
     * {@code plan} without its timeline's own WAL: what any branch made at the same point recovers. A spare
     * started for a branch that has run since must not offer the next one that branch's history.
     */
    static RecoveryPlan ancestorsOnly(RecoveryPlan plan, TimelineId own) {
        return new RecoveryPlan(plan.image(), plan.stopBefore(),
                plan.sources().stream().filter(s -> !s.timeline().equals(own)).toList(), plan.walEnd());
    }

    /** What a spare is started for: the plan of a new branch's ancestors, its key, and that branch's point. */
    private record Wanted(Key key, RecoveryPlan ancestors, Lsn point) {
    }

    /** The spare: being started, or running under a reservation. */
    private sealed interface Spare {
        Wanted wanted();

        record Starting(Wanted wanted) implements Spare {
        }

        /**
         * Started under {@code at}; promoted ahead for branches made at {@code promotedFor} (the branch point of the
         * branch whose start offered it), or a standby when empty.
         */
        record Running(Wanted wanted, NodeRegistry.Reservation at, SpareWal wal, Instant since, Optional<Lsn> promotedFor) implements Spare {
        }
    }

    /** A spare a new node takes: where it runs, its WAL, and whether it was promoted ahead (then its WAL is re-homed, not recovered). */
    record Taken(NodeRegistry.Reservation at, SpareWal wal, boolean promoted) {
    }

    /**
     * What a spare archives into: {@code link}, pointing at {@code held} until a branch takes it. Named for one
     * spare, not its node name: a taken spare's link outlives its node ({@link #LINK_KEPT}), whose name a later
     * spare may hold.
     */
    record SpareWal(Path link, Path held) {
        static SpareWal of(Repository repository, String name, long serial) {
            String id = name + "-" + serial;
            return new SpareWal(repository.tmpDir().resolve("standby-spare-archive-" + id), repository.tmpDir().resolve("standby-spare-wal-" + id));
        }

        void remove() {
            try {
                Files.deleteIfExists(link);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", link, e.getMessage());
            }
            FileTrees.deleteTree(held);
        }
    }

    /** How a spare is started: the settings and launch a compute's start uses, for a name and port to come. */
    interface Launcher {
        /**
         * Writes the settings of a standby at {@code paths} recovering by {@code plan}, on {@code port}, archiving
         * into {@code archiveDir} once promoted, and starts it.
         */
        ProcessHandle launch(NodePaths paths, int port, RecoveryPlan plan, Path archiveDir);
    }

    private final Repository repository;
    private final NodeRegistry registry;
    private final DataDirMaker dataDirs;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final Launcher launcher;
    private final BooleanSupplier hasRoom;
    private final ExecutorService starter = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("standby-spare").factory());
    private Spare spare;
    /** Archive links of taken spares, kept until surely read no more: the archiver takes its new settings when it gets to them. */
    private final Map<SpareWal, Instant> retiredLinks = new HashMap<>();
    /** Numbers the spares started, so that each one's WAL has names of its own ({@link SpareWal}). */
    private final AtomicLong sparesStarted = new AtomicLong();
    /** What the spares nodes took were started for, by node name, until their first start offers it again. */
    private final Map<String, Wanted> takenFor = new HashMap<>();

    StandbySpare(Repository repository, NodeRegistry registry, DataDirMaker dataDirs, PgCtl pgCtl, OsUser user,
                 Launcher launcher, BooleanSupplier hasRoom) {
        this.repository = repository;
        this.registry = registry;
        this.dataDirs = dataDirs;
        this.pgCtl = pgCtl;
        this.user = user;
        this.launcher = launcher;
        this.hasRoom = hasRoom;
    }

    /**
     * After a read-write start by {@code plan}: a spare for the next branch at the same point, started in the
     * background, unless one is there for it already. A plan that stops before a target has none: a sibling's
     * target differs.
     */
    void offer(RecoveryPlan plan, Timeline own) {
        if (plan.stopBefore().isPresent()) {
            return;
        }
        RecoveryPlan ancestors = ancestorsOnly(plan, own.id());
        offer(new Wanted(Key.of(ancestors, repository, registry::livePgWal), ancestors, own.metadata().ancestorLsn()));
    }

    /**
     * After the first start of the node that took a spare: the same spare again, for the branch after it. What
     * the taken one was started for is reused as it was; the branch's plan is gone once a spare promoted ahead
     * made it a primary.
     */
    void replenish(String nodeName) {
        Wanted wanted;
        synchronized (this) {
            wanted = takenFor.remove(nodeName);
        }
        if (wanted != null) {
            offer(wanted);
        }
    }

    private void offer(Wanted wanted) {
        if (!hasRoom.getAsBoolean()) {
            return;
        }
        Spare replaced;
        synchronized (this) {
            if (spare != null && spare.wanted().key().equals(wanted.key()) && !(spare instanceof Spare.Running r
                    && r.promotedFor().filter(p -> !p.equals(wanted.point())).isPresent())) {
                return;
            }
            replaced = spare;
            spare = new Spare.Starting(wanted);
        }
        try {
            starter.execute(() -> {
                if (replaced instanceof Spare.Running running) {
                    remove(running.at(), running.wal());
                }
                start(wanted);
            });
        } catch (RejectedExecutionException closed) {
            synchronized (this) {
                spare = null;
            }
        }
    }

    /**
     * The spare for a new branch whose first start would recover by {@code plan}, now the caller's; empty when none
     * fits. One promoted ahead fits only a branch made at the same point as the one it was promoted for: the
     * parent's WAL ended there then, and ends there still.
     */
    Optional<Taken> take(RecoveryPlan plan, Timeline own) {
        RecoveryPlan ancestors = ancestorsOnly(plan, own.id());
        if (plan.stopBefore().isPresent()
                || plan.files(repository, registry::livePgWal).size() != ancestors.files(repository, registry::livePgWal).size()) {
            return Optional.empty(); // a target to stop at, or WAL of its own: not a new branch at a spare's point
        }
        Key key = Key.of(ancestors, repository, registry::livePgWal);
        Spare.Running taken;
        synchronized (this) {
            if (!(spare instanceof Spare.Running running) || !running.wanted().key().equals(key)
                    || running.promotedFor().filter(p -> !p.equals(own.metadata().ancestorLsn())).isPresent()) {
                return Optional.empty();
            }
            taken = running;
            spare = null;
            takenFor.put(running.at().name(), running.wanted());
        }
        NodePaths paths = NodePaths.of(repository, taken.at().name(), taken.at().port());
        if (paths.postmaster().isEmpty()) {
            log.warn("the standby spare {} had stopped; it is removed", taken.at().name());
            remove(taken.at(), taken.wal());
            return Optional.empty();
        }
        try {
            Files.delete(paths.dataDir().resolve(NOTE));
        } catch (IOException e) {
            remove(taken.at(), taken.wal());
            throw new UncheckedIOException("cannot take the standby spare " + taken.at().name(), e);
        }
        log.info("a new node takes the standby spare {} on port {}{}", taken.at().name(), taken.at().port(),
                taken.promotedFor().isPresent() ? ", promoted ahead" : "");
        return Optional.of(new Taken(taken.at(), taken.wal(), taken.promotedFor().isPresent()));
    }

    /**
     * Makes the WAL of a spare promoted ahead the history of the branch that took it, in {@code archiveDir}: the
     * files archived so far (the timeline history, the parent's last segment up to the switch as
     * {@code .partial}) are moved there, its archive link is pointed there (an atomic rename), and what was
     * archived in between is moved after them. A copy the
     * archiver had begun through the old link fails its rename and is made again through the new one.
     */
    void rehome(Taken taken, Path archiveDir) {
        String name = taken.at().name();
        Path link = taken.wal().link();
        Path held = taken.wal().held();
        try {
            user.own(archiveDir);
            moveArchived(held, archiveDir); // all the promotion archived: the branch has its history before anything else
            Path next = link.resolveSibling(link.getFileName() + ".next");
            Files.deleteIfExists(next);
            Files.createSymbolicLink(next, archiveDir.toAbsolutePath());
            Files.move(next, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moveArchived(held, archiveDir); // what came through the link meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the WAL of the standby spare " + name + " into " + archiveDir, e);
        }
        synchronized (this) {
            retiredLinks.put(taken.wal(), Instant.now());
        }
    }

    private static void moveArchived(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(f -> !f.getFileName().toString().endsWith(".tmp")).toList()) {
                AtomicFiles.moveDurably(f, to.resolve(f.getFileName().toString()));
            }
        }
    }

    /** Stops the spare, if one runs or starts: a start needs its place, or its image went. */
    void discard() {
        Spare gone;
        synchronized (this) {
            gone = spare;
            spare = null;
        }
        if (gone instanceof Spare.Running running) {
            remove(running.at(), running.wal());
        }
    }

    /** Stops a spare unused for {@link SpareDataDirs#IDLE}, or whose image is gone: an idle Postgres holds memory. */
    void prune(Instant now) {
        List<SpareWal> retired;
        synchronized (this) {
            retired = retiredLinks.entrySet().stream().filter(e -> e.getValue().plus(LINK_KEPT).isBefore(now)).map(Map.Entry::getKey).toList();
            retired.forEach(retiredLinks::remove);
        }
        retired.forEach(SpareWal::remove);
        Spare.Running stale;
        synchronized (this) {
            if (!(spare instanceof Spare.Running running)
                    || (running.since().plus(SpareDataDirs.IDLE).isAfter(now) && Files.isDirectory(running.wanted().key().image()))) {
                return;
            }
            stale = running;
            spare = null;
        }
        remove(stale.at(), stale.wal());
    }

    /** Stops and removes a spare a node took but could not use. */
    void removeTaken(Taken taken) {
        synchronized (this) {
            takenFor.remove(taken.at().name());
        }
        remove(taken.at(), taken.wal());
    }

    @Override
    public void close() {
        starter.shutdownNow();
        discard();
    }

    /** Spares a daemon that died left running: stopped and removed, by the note in their data directories. */
    static void removeLeftovers(Repository repository, PgCtl pgCtl) {
        try (Stream<Path> dirs = Files.list(repository.dataDirs())) {
            for (Path dir : dirs.filter(d -> Files.exists(d.resolve(NOTE))).toList()) {
                String name = dir.getFileName().toString();
                log.info("removing the standby spare {} a daemon left", name);
                pgCtl.quit(dir, NodePaths.logFile(repository, name), STOP_TIMEOUT);
                FileTrees.deleteTree(dir);
                FileTrees.deleteTree(repository.restoreDir().resolve(name));
                Files.deleteIfExists(NodePaths.logFile(repository, name));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for standby spares in " + repository.dataDirs(), e);
        }
    }

    private void start(Wanted wanted) {
        RecoveryPlan plan = wanted.ancestors();
        if (!hasRoom.getAsBoolean()) {
            forget(wanted);
            return;
        }
        if (!dataDirs.standbyFits(plan.image())) {
            log.info("no standby spare of image {}: its copy does not fit the spares' budget (spareDiskMb)", plan.image().dataDir());
            forget(wanted);
            return;
        }
        NodeRegistry.Reservation at = registry.reserve();
        NodePaths paths = NodePaths.of(repository, at.name(), at.port());
        SpareWal wal = SpareWal.of(repository, at.name(), sparesStarted.incrementAndGet());
        Optional<Lsn> promotedFor = Optional.empty();
        try {
            Path staging = dataDirs.copyToRecover(plan.image(), "standby-spare-" + at.name());
            Files.createFile(staging.resolve(NOTE));
            user.own(staging.resolve(NOTE));
            DataDirMaker.savePlan(staging, plan, user);
            Files.delete(paths.dataDir()); // the empty directory that held the name
            Files.move(staging, paths.dataDir());
            Path held = Files.createDirectories(wal.held());
            user.own(held);
            Files.createSymbolicLink(wal.link(), held);
            ProcessHandle postmaster = launcher.launch(paths, at.port(), plan, wal.link());
            awaitAccepting(paths, postmaster);
            if (plan.walEnd().isEmpty() && plan.sources().stream().allMatch(s -> registry.livePgWal(s.timeline()).isEmpty())) {
                promoteAhead(paths, postmaster, held);
                promotedFor = Optional.of(wanted.point());
            }
        } catch (IOException | RuntimeException e) {
            log.warn("could not start a standby spare of image {}: {}", plan.image().dataDir(), e.getMessage());
            remove(at, wal);
            forget(wanted);
            return;
        }
        synchronized (this) {
            if (spare instanceof Spare.Starting starting && starting.wanted().equals(wanted)) {
                spare = new Spare.Running(wanted, at, wal, Instant.now(), promotedFor);
                log.info("standby spare {} on port {} is ready for a new branch at image {}{}", at.name(), at.port(),
                        plan.image().lsn(), promotedFor.map(p -> ", promoted ahead for branches at " + p).orElse(""));
                return;
            }
        }
        remove(at, wal); // discarded or replaced meanwhile
    }

    private synchronized void forget(Wanted wanted) {
        if (spare instanceof Spare.Starting starting && starting.wanted().equals(wanted)) {
            spare = null;
        }
    }

    private void awaitAccepting(NodePaths paths, ProcessHandle postmaster) {
        Deadline deadline = Deadline.in(START_TIMEOUT);
        while (PostmasterStatus.of(paths.dataDir(), postmaster.pid()).filter(s -> s == PostmasterStatus.READY).isEmpty()) {
            if (!postmaster.isAlive() || deadline.passed()) {
                throw new IllegalStateException("it did not come up (see " + paths.logFile() + ")");
            }
            Deadline.pause(STATUS_STEP);
        }
    }

    /**
     * Promotes a standby that has replayed all it can restore, and waits until it is a primary whose promotion
     * is archived (the timeline history and the parent's last segment, in {@code held}): what a branch's own
     * first start would have done, done before any branch asks.
     */
    private void promoteAhead(NodePaths paths, ProcessHandle postmaster, Path held) throws IOException {
        pgCtl.promote(paths.dataDir(), postmaster, paths.logFile());
        Path status = paths.dataDir().resolve("pg_wal").resolve("archive_status");
        Deadline deadline = Deadline.in(START_TIMEOUT);
        while (DataDirMaker.isRecovering(paths.dataDir()) || !holdsFileEndingIn(held, ".history") || holdsFileEndingIn(status, ".ready")) {
            if (!postmaster.isAlive() || deadline.passed()) {
                throw new IllegalStateException("its promotion did not end (see " + paths.logFile() + ")");
            }
            Deadline.pause(STATUS_STEP);
        }
        awaitAccepting(paths, postmaster);
        Files.deleteIfExists(paths.dataDir().resolve(DataDirMaker.PLAN_FILE)); // recovered: a branch's start has nothing to replay
        FileTrees.deleteTree(paths.restoreDir());
    }

    private static boolean holdsFileEndingIn(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(suffix));
        }
    }

    /** Stops a spare's Postgres and removes its files and log, then lets its name and port go. */
    private void remove(NodeRegistry.Reservation at, SpareWal wal) {
        NodePaths paths = NodePaths.of(repository, at.name(), at.port());
        log.info("stopping the standby spare {}", at.name());
        try {
            pgCtl.quit(paths.dataDir(), paths.logFile(), STOP_TIMEOUT);
            FileTrees.deleteTree(paths.dataDir());
            FileTrees.deleteTree(paths.restoreDir());
            Files.deleteIfExists(paths.logFile());
            wal.remove();
        } catch (IOException | RuntimeException e) {
            log.warn("could not remove the standby spare {}: {}", at.name(), e.getMessage());
        } finally {
            registry.release(at);
        }
    }
}
