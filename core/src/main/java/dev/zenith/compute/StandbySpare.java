package dev.zenith.compute;

import dev.zenith.Deadline;
import dev.zenith.TimelineId;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.PostmasterStatus;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
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
 * <p>One at a time. Never a compute: not listed, not counted against maxComputes, and running only while one
 * more Postgres fits under it ({@code hasRoom}), stopped ({@link #discard}) when a start needs the place. A
 * spare left by a daemon that died is found by its note ({@value #NOTE}) and removed at the next start.
 *
 * <p>Locks: this object's monitor guards {@code spare}; a spare is made and stopped on this object's thread or
 * the caller's, outside the monitor.
 */
final class StandbySpare implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandbySpare.class);
    /** In a spare's data directory until a branch takes it. */
    static final String NOTE = "zenith-standby-spare";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STATUS_STEP = Duration.ofMillis(2);

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

    /** The spare: being started for a key, or running under a reservation. */
    private sealed interface Spare {
        Key key();

        record Starting(Key key) implements Spare {
        }

        record Running(Key key, NodeRegistry.Reservation at, java.time.Instant since) implements Spare {
        }
    }

    /** How a spare is started: the settings and launch a compute's start uses, for a name and port to come. */
    interface Launcher {
        /** Writes the settings of a standby at {@code paths} recovering by {@code plan}, on {@code port}, and starts it. */
        ProcessHandle launch(NodePaths paths, int port, RecoveryPlan plan);
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
    void offer(RecoveryPlan plan, TimelineId own) {
        if (plan.stopBefore().isPresent() || !hasRoom.getAsBoolean()) {
            return;
        }
        RecoveryPlan ancestors = ancestorsOnly(plan, own);
        Key key = Key.of(ancestors, repository, registry::livePgWal);
        Spare replaced;
        synchronized (this) {
            if (spare != null && spare.key().equals(key)) {
                return;
            }
            replaced = spare;
            spare = new Spare.Starting(key);
        }
        try {
            starter.execute(() -> {
                if (replaced instanceof Spare.Running running) {
                    remove(running.at());
                }
                start(key, ancestors);
            });
        } catch (RejectedExecutionException closed) {
            synchronized (this) {
                spare = null;
            }
        }
    }

    /** The spare for a new branch whose first start would recover by {@code plan}, now the caller's; empty when none fits. */
    Optional<NodeRegistry.Reservation> take(RecoveryPlan plan, TimelineId own) {
        RecoveryPlan ancestors = ancestorsOnly(plan, own);
        if (plan.stopBefore().isPresent()
                || plan.files(repository, registry::livePgWal).size() != ancestors.files(repository, registry::livePgWal).size()) {
            return Optional.empty(); // a target to stop at, or WAL of its own: not a new branch at a spare's point
        }
        Key key = Key.of(ancestors, repository, registry::livePgWal);
        Spare.Running taken;
        synchronized (this) {
            if (!(spare instanceof Spare.Running running) || !running.key().equals(key)) {
                return Optional.empty();
            }
            taken = running;
            spare = null;
        }
        NodePaths paths = NodePaths.of(repository, taken.at().name(), taken.at().port());
        if (paths.postmaster().isEmpty()) {
            log.warn("the standby spare {} had stopped; it is removed", taken.at().name());
            remove(taken.at());
            return Optional.empty();
        }
        try {
            Files.delete(paths.dataDir().resolve(NOTE));
        } catch (IOException e) {
            remove(taken.at());
            throw new UncheckedIOException("cannot take the standby spare " + taken.at().name(), e);
        }
        log.info("a new node takes the standby spare {} on port {}", taken.at().name(), taken.at().port());
        return Optional.of(taken.at());
    }

    /** Stops the spare, if one runs or starts: a start needs its place, or its image went. */
    void discard() {
        Spare gone;
        synchronized (this) {
            gone = spare;
            spare = null;
        }
        if (gone instanceof Spare.Running running) {
            remove(running.at());
        }
    }

    /** Stops a spare unused for {@link SpareDataDirs#IDLE}, or whose image is gone: an idle Postgres holds memory. */
    void prune(java.time.Instant now) {
        Spare.Running stale;
        synchronized (this) {
            if (!(spare instanceof Spare.Running running)
                    || (running.since().plus(SpareDataDirs.IDLE).isAfter(now) && Files.isDirectory(running.key().image()))) {
                return;
            }
            stale = running;
            spare = null;
        }
        remove(stale.at());
    }

    /** Stops and removes a spare a node took but could not use. */
    void removeTaken(NodeRegistry.Reservation reservation) {
        remove(reservation);
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

    private void start(Key key, RecoveryPlan plan) {
        if (!hasRoom.getAsBoolean()) {
            forget(key);
            return;
        }
        NodeRegistry.Reservation at = registry.reserve();
        NodePaths paths = NodePaths.of(repository, at.name(), at.port());
        try {
            Path staging = dataDirs.copyToRecover(plan.image(), "standby-spare-" + at.name());
            Files.createFile(staging.resolve(NOTE));
            user.own(staging.resolve(NOTE));
            DataDirMaker.savePlan(staging, plan, user);
            Files.delete(paths.dataDir()); // the empty directory that held the name
            Files.move(staging, paths.dataDir());
            ProcessHandle postmaster = launcher.launch(paths, at.port(), plan);
            awaitAccepting(paths, postmaster);
        } catch (IOException | RuntimeException e) {
            log.warn("could not start a standby spare of image {}: {}", plan.image().dataDir(), e.getMessage());
            remove(at);
            forget(key);
            return;
        }
        synchronized (this) {
            if (spare instanceof Spare.Starting starting && starting.key().equals(key)) {
                spare = new Spare.Running(key, at, java.time.Instant.now());
                log.info("standby spare {} on port {} is ready for a new branch at image {}", at.name(), at.port(),
                        plan.image().lsn());
                return;
            }
        }
        remove(at); // discarded or replaced meanwhile
    }

    private synchronized void forget(Key key) {
        if (spare instanceof Spare.Starting starting && starting.key().equals(key)) {
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

    /** Stops a spare's Postgres and removes its files and log, then lets its name and port go. */
    private void remove(NodeRegistry.Reservation at) {
        NodePaths paths = NodePaths.of(repository, at.name(), at.port());
        log.info("stopping the standby spare {}", at.name());
        try {
            pgCtl.quit(paths.dataDir(), paths.logFile(), STOP_TIMEOUT);
            FileTrees.deleteTree(paths.dataDir());
            FileTrees.deleteTree(paths.restoreDir());
            Files.deleteIfExists(paths.logFile());
        } catch (IOException | RuntimeException e) {
            log.warn("could not remove the standby spare {}: {}", at.name(), e.getMessage());
        } finally {
            registry.release(at);
        }
    }
}
