package dev.zenith.compute;

import dev.zenith.postgres.PostmasterStatus;
import dev.zenith.postgres.PgControl;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.OsUser;
import dev.zenith.Deadline;
import dev.zenith.AtomicFiles;
import dev.zenith.Failpoints;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
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
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Starts, stops, settles and destroys one node's Postgres, moving its {@link NodeState} as it goes: every
 * path that starts or stops a compute (a connection, by hand, idle, reset, pull, delete, admission,
 * reconciliation) comes through here. Every method runs while its caller holds the node's timeline lock
 * ({@link TimelineLocks}); starts also share the {@link ArchiveLock} with other recoveries.
 */
final class NodeLifecycle {

    private static final Logger log = LoggerFactory.getLogger(NodeLifecycle.class);
    static final Duration START_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STATUS_STEP = Duration.ofMillis(1);
    private static final int MAX_SOCKET_PATH = 107;

    private final Repository repository;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final NodeRegistry registry;
    private final ComputeSql sql;
    private final PostgresConfig config;
    private final Optional<PasswordSwitch> passwordSwitch;
    private final DataDirMaker dataDirs;
    private final Images images;
    private final Leases leases;
    private final NodeStates states;
    private final Admission admission;
    private final ArchiveLock archive;
    private final Operations operations;
    private final PostgresConfig.WalSettings wal;
    private final StandbySpare standby;

    NodeLifecycle(Repository repository, PgCtl pgCtl, OsUser user, NodeRegistry registry, ComputeSql sql, PostgresConfig config,
                  Optional<PasswordSwitch> passwordSwitch, DataDirMaker dataDirs, Images images, Leases leases,
                  NodeStates states, Admission admission, ArchiveLock archive, Operations operations,
                  PostgresConfig.WalSettings wal) {
        this.repository = repository;
        this.pgCtl = pgCtl;
        this.user = user;
        this.registry = registry;
        this.sql = sql;
        this.config = config;
        this.passwordSwitch = passwordSwitch;
        this.dataDirs = dataDirs;
        this.images = images;
        this.leases = leases;
        this.states = states;
        this.admission = admission;
        this.archive = archive;
        this.operations = operations;
        this.wal = wal;
        this.standby = new StandbySpare(repository, registry, dataDirs, pgCtl, user, this::launchStandby,
                () -> repository.config().keepsSpares() && admission.hasRoom());
    }

    /**
     * The standby spare ({@link StandbySpare}) a new node of {@code timeline} can be registered on: one started
     * from the image its first start would copy, with the same view of the archive.
     */
    Optional<StandbySpare.Taken> standbyFor(Timeline timeline) {
        return standby.take(RecoveryPlan.latest(repository, timeline).cutWhereWalEnds(repository, registry::livePgWal), timeline);
    }

    /**
     * A node registered on a standby spare: its data directory is the spare's, running, and recovers by the
     * timeline's plan at its first start, as a made one would; or, promoted ahead, it is a primary already, whose
     * WAL so far becomes the timeline's. A failure removes the spare.
     */
    void createOnStandby(ComputeNode node, Timeline timeline, StandbySpare.Taken spare) {
        try {
            if (spare.promoted()) {
                standby.rehome(spare, timeline.wal().archiveDir());
            } else {
                DataDirMaker.savePlan(registry.paths(node).dataDir(), RecoveryPlan.latest(repository, timeline), user);
            }
        } catch (RuntimeException e) {
            standby.removeTaken(spare);
            throw e;
        }
    }

    /** Lets a spare taken for a node go, when the node could not be registered on it. */
    void dropStandby(StandbySpare.Taken spare) {
        standby.removeTaken(spare);
    }

    /** Stops the standby spare when unused for a while, or when its image is gone. */
    void pruneStandby(java.time.Instant now) {
        standby.prune(now);
    }

    /** Stops the standby spare: the daemon stops. */
    void closeStandby() {
        standby.close();
    }

    /** Makes a node's data directory from the repository ({@code zenith pg create}), as an operation of its own. */
    void create(ComputeNode node, Timeline timeline) {
        try (Operations.Tracker op = operations.begin("create", node.name(), registry.branchOf(node))) {
            dataDirs.prepare(node, registry.paths(node), timeline, op);
        }
    }

    /**
     * Starts a stopped node within {@code maxComputes} ({@link Admission#reserve}) and waits until it can be
     * handed out: promoted, or paused at its point for a read-only view. Clients wait meanwhile: it is
     * {@link NodeState#STARTING} until this returns.
     */
    void start(ComputeNode node, Timeline timeline) {
        admission.reserve(node);
        if (!admission.hasRoom()) {
            standby.discard(); // its place is a compute's now
        }
        started(node, () -> recover(node, timeline));
    }

    /**
     * Starts again a node that a reset or a pull stopped. Its place under {@code maxComputes} may have gone to
     * another start meanwhile: then it stays stopped, as if suspended, and its next connection starts it.
     */
    void startAgain(ComputeNode node, Timeline timeline) {
        try {
            start(node, timeline);
        } catch (ZenithException e) {
            if (e.kind() != ZenithException.Kind.LIMIT) {
                throw e;
            }
            registry.save(node.asSuspended());
            log.warn("compute {} was not started again: {}", node.name(), e.getMessage());
        }
    }

    /** Runs {@code start} on a node already {@link NodeState#STARTING}: running after it, stopped if it fails. */
    private void started(ComputeNode node, Runnable start) {
        try {
            start.run();
        } catch (RuntimeException e) {
            states.require(node.name(), NodeState.STARTING, NodeState.STOPPED);
            throw e;
        }
        states.require(node.name(), NodeState.STARTING, NodeState.RUNNING);
    }

    private void recover(ComputeNode node, Timeline timeline) {
        archive.whileUsing(() -> {
            try (Operations.Tracker op = operations.begin("start", node.name(), registry.branchOf(node))) {
                boolean recovered = startRecovering(node, timeline, op);
                ComputeMetrics.START_SECONDS.labelValues(recovered ? "recovered" : "cached").observe(op.elapsedNanos() / 1e9);
            } catch (RuntimeException e) {
                ComputeMetrics.START_FAILURES.inc();
                throw e;
            }
            return null;
        });
    }

    /** Starts a node; true when it was built from the repository (image and WAL), false when its data directory was kept. */
    private boolean startRecovering(ComputeNode node, Timeline timeline, Operations.Tracker op) {
        StartPhases phases = new StartPhases();
        NodePaths paths = registry.paths(node);
        Path dataDir = paths.dataDir();
        if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
            dataDirs.prepare(node, paths, timeline, op);
        }
        phases.mark("data directory");
        boolean recovering = DataDirMaker.isRecovering(dataDir);
        RecoveryPlan plan = recovering ? DataDirMaker.pendingPlan(dataDir) : null;
        if (plan != null) {
            RecoveryPlan cut = plan.cutWhereWalEnds(repository, registry::livePgWal);
            if (cut != plan) {
                DataDirMaker.savePlan(dataDir, cut, user); // what the rest of the start, and a retried one, reads
                plan = cut;
            }
        }
        boolean toTarget = plan != null && plan.stopBefore().isPresent();
        if (plan != null) {
            plan.writeRestoreView(repository, paths.restoreDir(), registry::livePgWal);
            user.ownTree(paths.restoreDir());
        }
        writeSettings(paths, node.port(), node.mode(), timeline.wal().archiveDir(), plan);
        log.info("starting compute {} on port {}{}", node.name(), node.port(), node.mode() instanceof ComputeMode.ReadOnly r
                ? " (read-only at " + r.at().lsn() + ")" : plan == null ? "" : " (recovery)");
        op.phase("starting Postgres");
        phases.mark("settings");
        Optional<ProcessHandle> standbySpare = paths.postmaster();
        ProcessHandle postgres;
        if (standbySpare.isPresent()) {
            postgres = standbySpare.get(); // a standby spare this node took: it reads the settings for its branch
            pgCtl.reload(postgres, paths.logFile());
        } else {
            postgres = pgCtl.launch(dataDir, paths.logFile()).toHandle();
        }
        phases.mark("spawn");
        Failpoints.reach("compute-recovering");
        if (plan != null) {
            trackReplay(node, timeline, plan, op);
        }
        if (!node.isReadOnly()) {
            if (recovering) {
                finishRecovery(node, paths, postgres, phases);
            } else {
                awaitAccepting(node, paths, postgres); // a kept primary takes writes once it accepts
                phases.mark("start");
            }
            ensureRoles(node, paths);
            passwordSwitch.ifPresent(s -> s.apply(node, paths));
            phases.mark("roles");
        } else if (toTarget) {
            sql.awaitReady(node, ComputeSql.Readiness.PAUSED_AT_TARGET, postgres::isAlive, paths.logFile(), START_TIMEOUT);
        } else if (plan != null && plan.walEnd().isPresent()) {
            sql.awaitReplayed(node, plan.walEnd().get(), postgres::isAlive, paths.logFile(), START_TIMEOUT);
        } else {
            awaitAccepting(node, paths, postgres);
        }
        leases.restartClock(node.name());
        if (plan != null && !node.isReadOnly()) {
            try {
                Files.deleteIfExists(dataDir.resolve(DataDirMaker.PLAN_FILE));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            FileTrees.deleteTree(paths.restoreDir());
        }
        registry.save(node.withWantRunning(true));
        phases.mark("bookkeeping");
        log.info("compute {} started in {}{}", node.name(), phases, standbySpare.isEmpty() ? ""
                : recovering ? " from a standby spare" : " from a standby spare promoted ahead");
        // a new branch's first start (from an image of its parent): the next one at the same point may come soon
        if (standbySpare.isPresent()) {
            standby.replenish(node.name());
        } else if (plan != null && !node.isReadOnly() && !plan.image().dataDir().startsWith(timeline.dir())) {
            standby.offer(plan, timeline);
        }
        return recovering;
    }

    /**
     * {@link ComputeSql#ensureToolsRole} once per data directory: a note in it ({@value #ROLES_FILE}) says the roles
     * were there, and it travels into the images made of it, so a branch's start asks nothing of a Postgres whose
     * roles are known (a query on a cold backend: 10 to 20 ms of every start). The note names the roles, so an
     * image from a repository with another superuser (a clone) is checked again. A role dropped by hand later is
     * not made again.
     */
    private void ensureRoles(ComputeNode node, NodePaths paths) {
        Path note = paths.dataDir().resolve(ROLES_FILE);
        String roles = sql.ensuredRoles();
        try {
            if (Files.exists(note) && Files.readString(note).equals(roles)) {
                return;
            }
            sql.ensureToolsRole(node, paths.logFile());
            AtomicFiles.write(note, roles.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            user.own(note);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot note the roles of " + node.name() + " in " + note, e);
        }
    }

    static final String ROLES_FILE = "zenith-roles";

    /** Where a start's time went, for its log line: each phase's milliseconds, in order. */
    private static final class StartPhases {
        private final long began = System.nanoTime();
        private long last = began;
        private final StringBuilder phases = new StringBuilder();

        void mark(String phase) {
            long now = System.nanoTime();
            phases.append(phases.isEmpty() ? "" : ", ").append(phase).append(' ').append((now - last) / 1_000_000);
            last = now;
        }

        @Override
        public String toString() {
            return (last - began) / 1_000_000 + " ms (" + phases + ")";
        }
    }

    /**
     * Ends a started read-write compute's recovery by a triggered promotion, requested as soon as it
     * takes connections: a standby takes it only after the last WAL it can restore, or at its paused
     * target, never earlier. Also finishes a start the daemon died in. Whether it takes connections is
     * read from the postmaster's status, not tried by connecting: each try would fork a backend of a
     * Postgres busy starting. The request is a signal, so the first connection, which sees the end of
     * the promotion, is opened while Postgres promotes.
     */
    private void finishRecovery(ComputeNode node, NodePaths paths, ProcessHandle postmaster, StartPhases phases) {
        awaitAccepting(node, paths, postmaster);
        phases.mark("recovery");
        BooleanSupplier alive = postmaster::isAlive;
        if (Files.exists(paths.dataDir().resolve(DataDirMaker.SIGNAL_FILE))) {
            pgCtl.promote(paths.dataDir(), postmaster, paths.logFile()); // Postgres removes the signal file once promoted
            phases.mark("promotion asked");
        }
        RecoveryPlan plan = DataDirMaker.pendingPlan(paths.dataDir());
        if (plan != null && plan.stopBefore().isPresent()) {
            sql.awaitReady(node, ComputeSql.Readiness.RECOVERED, alive, paths.logFile(), START_TIMEOUT);
            sql.promote(node, paths.logFile());
        } else {
            sql.awaitPromoted(node, alive, paths.logFile(), START_TIMEOUT);
        }
        phases.mark("promotion");
    }

    /** Waits until a starting node's postmaster takes connections: read-only ones, while it recovers. */
    private void awaitAccepting(ComputeNode node, NodePaths paths, ProcessHandle postmaster) {
        Deadline deadline = Deadline.in(START_TIMEOUT);
        while (!deadline.passed()) {
            if (PostmasterStatus.of(paths.dataDir(), postmaster.pid()).filter(s -> s == PostmasterStatus.READY).isPresent()) {
                return;
            }
            if (!postmaster.isAlive()) {
                throw PgCtl.exitedWhileStarting(node.name(), paths.logFile());
            }
            Deadline.pause(STATUS_STEP);
        }
        throw ZenithException.failed("Postgres for " + node.name() + " did not accept connections in "
                + START_TIMEOUT.toMinutes() + " minutes", "see " + paths.logFile());
    }

    /**
     * Stops a node cleanly, saves the end of its WAL, and keeps its data directory as an image when one is due.
     * It is {@link NodeState#STOPPING} meanwhile (a suspend may have made it so already): clients wait.
     */
    void stop(ComputeNode node, Timeline timeline) {
        stopping(node, () -> {
            NodePaths paths = registry.paths(node);
            sql.discard(node);
            boolean wasRunning = paths.isRunning();
            if (wasRunning) {
                log.info("stopping compute {}", node.name());
                Failpoints.reach("compute-stopping " + node.name());
                pgCtl.stop(paths.dataDir(), paths.logFile(), STOP_TIMEOUT);
            }
            settle(node, timeline);
            if (wasRunning && !node.isReadOnly()) {
                images.keepStoppedIfDue(node, paths, timeline);
            }
        });
    }

    /** Runs {@code stop} with the node {@link NodeState#STOPPING}; stopped after it, or running still if its Postgres is. */
    private void stopping(ComputeNode node, Runnable stop) {
        states.change(node.name(), NodeState.RUNNING, NodeState.STOPPING);
        try {
            stop.run();
        } finally {
            if (states.of(node.name()) == NodeState.STOPPING) {
                states.require(node.name(), NodeState.STOPPING,
                        registry.paths(node).isRunning() ? NodeState.RUNNING : NodeState.STOPPED);
            }
        }
    }

    /**
     * For a node that is not running: after a clean stop, saves the WAL left in its {@code pg_wal} and
     * records where the timeline's WAL ends; after a crash, runs crash recovery once (start, clean stop)
     * so that end is known and nothing the crashed Postgres acknowledged is left behind.
     */
    void settle(ComputeNode node, Timeline timeline) {
        if (node.isReadOnly()) {
            return; // a standby writes no WAL of the timeline's
        }
        NodePaths paths = registry.paths(node);
        Path dataDir = paths.dataDir();
        if (!DataDirMaker.isPromoted(dataDir)) {
            return; // never promoted: the timeline still ends at its branch point
        }
        PgControl control = PgControl.read(dataDir);
        if (!control.clean()) {
            log.info("compute {} did not stop cleanly; running crash recovery", node.name());
            // its state stays as it is (stopped or stopping): no client gets this Postgres, stopped again at once
            recover(node, timeline);
            pgCtl.stop(dataDir, paths.logFile(), STOP_TIMEOUT);
            control = PgControl.read(dataDir);
            registry.save(node);
        }
        if (control.clean()) {
            timeline.wal().captureFromStoppedCompute(dataDir.resolve("pg_wal"),
                    WalFileName.segmentOf(control.checkpoint().tli(), control.checkpoint().lsn()));
            timeline.recordCleanStop(control.checkpoint());
        }
    }

    /**
     * Brings a node back to what it was when the daemon last ran: a running Postgres is adopted as it is,
     * a node that should run but does not is started, a cleanly stopped one has its WAL's end saved.
     */
    void bringBack(ComputeNode node, Timeline timeline) {
        NodePaths paths = registry.paths(node);
        Optional<ProcessHandle> running = paths.postmaster();
        if (running.isPresent()) {
            log.info("adopted running compute {} (pid {})", node.name(), running.get().pid());
            states.require(node.name(), NodeState.STOPPED, NodeState.STARTING); // it runs already: counted, not admitted
            started(node, () -> {
                if (!node.isReadOnly()) {
                    finishRecovery(node, paths, running.get(), new StartPhases());
                    ensureRoles(node, paths); // an interrupted start had not made them
                    passwordSwitch.ifPresent(s -> s.ensure(node, paths)); // nor set the password
                }
            });
        } else if (node.isReadOnly()) {
            destroy(node, timeline);
        } else {
            settle(node, timeline);
            if (node.wantRunning()) {
                log.info("restarting compute {}, which was running before", node.name());
                start(node, timeline);
            }
        }
    }

    /** Stops a running node as the daemon stops: cleanly, and not to be started again by the next daemon. */
    void shutDown(ComputeNode node, Timeline timeline) {
        if (registry.paths(node).isRunning()) {
            stop(node, timeline);
            registry.save(node.withWantRunning(false));
        }
    }

    /**
     * Stops a node and removes it with its data directory; returns the bytes freed. A read-only view
     * quits at once: it holds nothing to keep, and a clean stop of a standby waits about a second for
     * its restartpoint, which every probe of {@code zenith bisect} paid.
     */
    long destroy(ComputeNode node, Timeline timeline) {
        if (node.isReadOnly()) {
            return discard(node);
        }
        stop(node, timeline);
        return remove(node);
    }

    /**
     * Removes a node of a branch being deleted: its Postgres quits at once (immediate shutdown), since
     * nothing it holds is kept, not its WAL and not a stop image; returns the bytes its data directory freed.
     */
    long discard(ComputeNode node) {
        NodePaths paths = registry.paths(node);
        stopping(node, () -> {
            sql.discard(node);
            pgCtl.quit(paths.dataDir(), paths.logFile(), STOP_TIMEOUT);
        });
        return remove(node);
    }

    private long remove(ComputeNode node) {
        NodePaths paths = registry.paths(node);
        long bytes = repository.discardInBackground(paths.dataDir());
        FileTrees.deleteTree(paths.restoreDir());
        registry.remove(node);
        leases.forget(node.name());
        states.forget(node.name());
        return bytes;
    }

    /**
     * Shows WAL replay as bytes from the image to where the plan stops (or the timeline's last known LSN),
     * read from {@code pg_last_wal_replay_lsn()} once the recovering Postgres takes read-only connections.
     */
    private void trackReplay(ComputeNode node, Timeline timeline, RecoveryPlan plan, Operations.Tracker op) {
        long from = plan.image().lsn().value();
        long total = Math.max(plan.stopBefore().orElse(timeline.metadata().lastLsn()).value() - from, 0);
        long[] replayed = {0};
        op.phase("replaying WAL", () -> total, () -> {
            sql.replayed(node).ifPresent(lsn -> replayed[0] = Math.max(replayed[0], lsn.value() - from));
            return replayed[0];
        });
    }

    /** The settings a start writes: zenith's own, the client authentication while it starts, and who owns what. */
    private void writeSettings(NodePaths paths, int port, ComputeMode mode, Path archiveDir, RecoveryPlan plan) {
        checkSocketPath(paths);
        config.writeConf(paths, PostgresConfig.zenithConf(port, repository.socketsDir(), mode, archiveDir, plan,
                paths.restoreDir(), wal));
        config.writeHba(paths, repository.config().auth(), PostgresConfig.startingAccess(repository.config().auth(), mode));
        user.own(archiveDir);
        user.own(repository.socketsDir());
        touch(paths.logFile());
    }

    /**
     * Starts a standby spare: a read-write compute's settings for a name and port to come, archiving into
     * {@code archiveDir} (the spare's link, {@link StandbySpare.SpareWal}) once promoted.
     */
    private ProcessHandle launchStandby(NodePaths paths, int port, RecoveryPlan plan, Path archiveDir) {
        plan.writeRestoreView(repository, paths.restoreDir(), registry::livePgWal);
        user.ownTree(paths.restoreDir());
        writeSettings(paths, port, ComputeMode.READ_WRITE, archiveDir, plan);
        return pgCtl.launch(paths.dataDir(), paths.logFile()).toHandle();
    }

    private void checkSocketPath(NodePaths paths) {
        String socket = paths.socket().toAbsolutePath().toString();
        if (socket.length() > MAX_SOCKET_PATH) {
            throw ZenithException.failed("the repository path is too long for a Unix socket: " + socket
                            + " has " + socket.length() + " characters, the limit is " + MAX_SOCKET_PATH,
                    "put the repository in a shorter path (ZENITH_REPO_DIR or --repo)");
        }
    }

    private void touch(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            user.own(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
    }
}
