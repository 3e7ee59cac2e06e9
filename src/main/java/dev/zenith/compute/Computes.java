package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.DurationText;
import dev.zenith.Failpoints;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import dev.zenith.TimelineId;
import dev.zenith.ZenithException;
import dev.zenith.storage.AtomicFiles;
import dev.zenith.storage.GarbageCollector;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The compute nodes of a repository: making their data directories from the repository, starting and
 * stopping their Postgres, and finding the end of a timeline's WAL for a new branch.
 *
 * <p>Every operation on a timeline's node holds that timeline's lock, so a start, a stop and a branch
 * point never interleave; with one node per timeline that keeps one writer per branch.
 */
public final class Computes implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Computes.class);

    static final String PLAN_FILE = "zenith-recovery-plan.json";
    private static final String CONFIG_FILE = "zenith.conf";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_SOCKET_PATH = 107;

    /** What {@code zenith pg list} shows of a node. */
    public record Status(String name, BranchName branch, TimelineId timeline, String host, int port,
                         String state, Long pid, Lsn lsn, Path dataDir, String user, Integer connections,
                         Long idleSeconds, String idleTimeout, Lsn readOnlyAt) {
    }

    /**
     * A client's claim on a running compute, from the proxy: while any lease is open the compute is not
     * suspended. Closing it (at disconnect) may let the idle timeout run.
     */
    public final class Lease implements AutoCloseable {
        private final ComputeNode node;
        private final Activity activity;
        private boolean closed;

        private Lease(ComputeNode node, Activity activity) {
            this.node = node;
            this.activity = activity;
        }

        public ComputeNode node() {
            return node;
        }

        /** The compute's Unix socket: the shortest way in, and no TCP on the proxy's relay path. */
        public Path socket() {
            return repository.socketsDir().resolve(".s.PGSQL." + node.port());
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            activity.lastActiveNanos = System.nanoTime();
            if (activity.leases.decrementAndGet() == 0) {
                idleListener.run();
            }
        }
    }

    /** What the idle check knows of a node's clients. */
    static final class Activity {
        final java.util.concurrent.atomic.AtomicInteger leases = new java.util.concurrent.atomic.AtomicInteger();
        volatile long lastActiveNanos = System.nanoTime();
        volatile int clientBackends;
    }

    /** A new branch and the LSN it was made at. */
    public record BranchPoint(BranchName name, TimelineId timeline, BranchName parent, Lsn lsn) {
    }

    private final Repository repository;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final Map<String, ComputeNode> nodes = new ConcurrentHashMap<>();
    private final Map<TimelineId, ReentrantLock> timelineLocks = new ConcurrentHashMap<>();
    private final ReentrantLock registryLock = new ReentrantLock();
    private final ReentrantLock admissionLock = new ReentrantLock();
    private final InternalConnections internal;
    /** The superuser's password when {@code auth} is {@code password}, else null. */
    private final String password;
    /** Recoveries read the archive while GC removes from it: starts share this lock, GC takes it alone. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock maintenance = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private final Set<String> starting = ConcurrentHashMap.newKeySet();
    /** Computes whose idle suspend is under way: a lease taken meanwhile waits for the stop, then starts them again. */
    private final Set<String> suspending = ConcurrentHashMap.newKeySet();
    private final Map<String, Activity> activity = new ConcurrentHashMap<>();
    private volatile Runnable idleListener = () -> { };
    private final Operations operations = new Operations();

    public Computes(Repository repository, PgDistribution dist, OsUser user) {
        this.repository = repository;
        this.pgCtl = new PgCtl(dist, user);
        this.user = user;
        this.password = repository.config().passwordAuth() ? requirePassword(repository) : null;
        this.internal = new InternalConnections(repository.config().superuser(), password);
        savedNodes(repository).forEach(n -> nodes.put(n.name(), n));
    }

    /** The nodes as {@code computes/NAME.json} records them. */
    private static List<ComputeNode> savedNodes(Repository repository) {
        try (Stream<Path> files = Files.list(repository.computesDir())) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json"))
                    .map(f -> AtomicFiles.readJson(f, ComputeNode.class)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + repository.computesDir(), e);
        }
    }

    /** Runs initdb for a new repository and makes the result the root timeline's first image. */
    public static void initRoot(Repository repository, PgDistribution dist, OsUser user) {
        Path staging = repository.tmpDir().resolve("initdb");
        Repository.deleteTree(staging);
        try {
            Files.createDirectories(staging);
            user.own(staging, false);
            new PgCtl(dist, user).initdb(staging, repository.config().superuser(), repository.logsDir().resolve("initdb.log"));
            Files.writeString(staging.resolve("postgresql.conf"), "\ninclude_if_exists = '" + CONFIG_FILE + "'\n",
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + staging, e);
        }
        PgControl control = PgControl.read(staging);
        repository.createRoot(staging, control.checkpoint(), control.tli());
    }

    /**
     * Creates a branch of {@code parent}: at the end of its WAL when {@code at} is null, else at that LSN
     * of its history. With the parent's compute running, a restore point is written inside a
     * transaction whose commit makes it durable: for "end of WAL" it is the branch point (every commit
     * acknowledged before holds, nothing after it reaches the branch); for a past LSN it guarantees
     * WAL exists after the point, which recovery needs to stop there. With no compute running, the end
     * is where the parent's WAL ended at its last clean stop.
     */
    public BranchPoint branch(BranchName name, BranchName parentName, PointInTime at, String retention) {
        if (retention != null) {
            DurationText.parse(retention, "retention");
        }
        Timeline parent = repository.requireBranch(parentName);
        repository.requireNewBranchName(name);
        ReentrantLock lock = lockFor(parent.id());
        lock.lock();
        try {
            Point point = resolve(parent, parentName, name.value(), at);
            Timeline child = repository.createBranch(name, parent, point.lsn(), point.tli(), retention);
            log.info("branch {} ({}) made from {} at {}{}", name, child.id(), parentName, point.lsn(),
                    at == null ? "" : " (" + at + ")");
            return new BranchPoint(name, child.id(), parentName, point.lsn());
        } finally {
            lock.unlock();
        }
    }

    /** An LSN of a branch's history and the Postgres timeline id in force there. */
    private record Point(Lsn lsn, int tli) {
    }

    /** Where {@code at} (null: the end of WAL) lies in a branch's history; the caller holds the branch's lock. */
    private Point resolve(Timeline branch, BranchName branchName, String markName, PointInTime at) {
        ParentState state = parentState(branch, markName);
        Lsn start = branch.startLsn();
        Lsn lsn = switch (at) {
            case null -> state.mark();
            case PointInTime.AtLsn atLsn -> checkInHistory(branch, branchName, atLsn.lsn(), start, state.promoted() ? state.end() : start);
            case PointInTime.AtTime atTime -> state.promoted()
                    ? lsnAtTime(branch, branchName, atTime.time(), start, state.mark(), state.tli())
                    : checkTime(branch, branchName, atTime.time(), start);
        };
        int tli = at == null || !state.promoted() ? state.tli()
                : branch.history(state.tli(), livePgWal(branch.id())).tliAt(lsn);
        return new Point(lsn, tli);
    }

    /**
     * For the proxy: a read-only view of a branch's past ({@code branch=main@0/16B5A50}): a hot standby
     * paused at that point, shared by every client asking for the same point, removed when idle.
     */
    public Lease leaseReadOnly(BranchName branchName, PointInTime at) {
        return leaseOf(readOnlyNode(branchName, at));
    }

    /** {@code zenith pg start BRANCH --at POINT}: the same read-only view, started by hand. */
    public Status startReadOnly(BranchName branchName, PointInTime at) {
        ComputeNode node = readOnlyNode(branchName, at);
        ensureRunning(node, true);
        return status(nodes.get(node.name()));
    }

    private ComputeNode readOnlyNode(BranchName branchName, PointInTime at) {
        Timeline timeline = repository.requireBranch(branchName);
        Point point;
        ReentrantLock lock = lockFor(timeline.id());
        lock.lock();
        try {
            point = resolve(timeline, branchName, branchName + "@" + at, at);
        } finally {
            lock.unlock();
        }
        String name = String.format("ro_%s_%016X", timeline.id().value().substring(0, 8), point.lsn().value());
        registryLock.lock();
        try {
            ComputeNode existing = nodes.get(name);
            if (existing != null) {
                return existing;
            }
            ComputeNode node = new ComputeNode(name, timeline.id(), allocatePort(null), Instant.now(), false,
                    repository.config().readOnlyIdleTimeout(), true, false, point.lsn(), point.tli());
            nodes.put(name, node);
            return node;
        } finally {
            registryLock.unlock();
        }
    }

    /** Starts a node unless it runs, once however many callers race, within max_computes. */
    private void ensureRunning(ComputeNode node, boolean byProxy) {
        // A compute being suspended still looks running until its stop returns. The caller's lease is
        // counted before this check, and a suspend marks itself before checking leases, so one of the
        // two sees the other: either the suspend gives up, or this waits below under the lock.
        if (isRunning(node) && !suspending.contains(node.name())) {
            return;
        }
        admit(node);
        try {
            ReentrantLock lock = lockFor(node.timeline());
            lock.lock();
            try {
                ComputeNode current = requireNode(node.name());
                if (!isRunning(current)) {
                    startLocked(current.started(byProxy, null), repository.timeline(current.timeline()));
                }
            } finally {
                lock.unlock();
            }
        } finally {
            starting.remove(node.name());
        }
    }

    /**
     * Where a parent's WAL stands, under its lock: {@code mark} is its end of WAL as a branch point
     * (a fresh restore point when its compute runs), {@code end} the last LSN it has, {@code tli} its
     * current Postgres timeline, {@code promoted} whether it has WAL of its own.
     */
    private record ParentState(boolean promoted, Lsn end, Lsn mark, int tli) {
    }

    private ParentState parentState(Timeline parent, String markName) {
        Optional<ComputeNode> node = nodeFor(parent.id());
        boolean running = node.isPresent() && isRunning(node.get());
        if (!running) {
            node.ifPresent(n -> settleStopped(n, parent));
            Lsn last = parent.metadata().lastLsn();
            return new ParentState(parent.wal().hasHistory(), last, last, parent.metadata().lastTli());
        }
        Lsn end = currentLsn(node.get());
        Point mark = restorePoint(node.get(), markName);
        return new ParentState(true, end, mark.lsn(), mark.tli());
    }

    /**
     * Makes an image of every running compute whose timeline has more than {@code thresholdBytes} of
     * WAL since the image a rebuild would start from, so a start never replays more than that.
     */
    public void makeImagesWhereDue(long thresholdBytes) {
        for (ComputeNode node : List.copyOf(nodes.values())) {
            if (node.isReadOnly() || !isRunning(node)) {
                continue;
            }
            Timeline timeline = repository.timeline(node.timeline());
            ReentrantLock lock = lockFor(node.timeline());
            lock.lock();
            try {
                if (!isRunning(node)) {
                    continue;
                }
                Lsn replayFrom = RecoveryPlan.latest(repository, timeline).image().walStart();
                Lsn current = currentLsn(node);
                if (current.value() - replayFrom.value() < thresholdBytes) {
                    continue;
                }
                log.info("making an image of {} at about {} ({} MiB of WAL since {})", node.name(), current,
                        (current.value() - replayFrom.value()) >> 20, replayFrom);
                Path staging = repository.tmpDir().resolve("image-" + node.name());
                try (Connection c = connect(node);
                     Operations.Tracker op = operations.begin("image", node.name(), branchOf(node))) {
                    op.phase("making image", () -> Repository.sizeOf(dataDir(node)), () -> Repository.sizeOf(staging));
                    var image = ImageMaker.make(c, dataDir(node), staging, timeline, user);
                    ComputeMetrics.IMAGES_MADE.inc();
                    log.info("image of {} made at {}", node.name(), image.lsn());
                }
            } catch (SQLException | RuntimeException e) {
                log.error("cannot make an image of {}", node.name(), e);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Removes what no branch needs for its latest state, its retention window or its children. */
    public GarbageCollector.Result collectGarbage() {
        maintenance.writeLock().lock();
        try (Operations.Tracker op = operations.begin("gc", null, null)) {
            op.phase("collecting garbage");
            Instant now = Instant.now();
            GarbageCollector.Result result = new GarbageCollector(repository).collect(t -> retentionHorizon(t, now));
            ComputeMetrics.GC_RUNS.inc();
            ComputeMetrics.GC_FREED.inc(result.freedBytes());
            log.info("gc: removed {} WAL files, {} images, {} timelines; freed {} bytes", result.segments(), result.images(),
                    result.timelines(), result.freedBytes());
            return result;
        } finally {
            maintenance.writeLock().unlock();
        }
    }

    /** The oldest time whose state of a branch stays available; {@code never} keeps everything. */
    private Instant retentionHorizon(Timeline timeline, Instant now) {
        return DurationText.parse(retention(timeline), "retention").map(now::minus).orElse(Instant.EPOCH);
    }

    private String retention(Timeline timeline) {
        return timeline.metadata().retention() != null ? timeline.metadata().retention() : repository.config().retention();
    }

    /** Sets a branch's own retention window; null goes back to the repository's. */
    public void setRetention(BranchName name, String window) {
        if (window != null) {
            DurationText.parse(window, "retention");
        }
        repository.requireBranch(name).setRetention(window);
    }

    /** What deleting a branch freed. */
    public record Deleted(BranchName name, long freedBytes) {
    }

    /** Deletes a branch: refused for main and for branches with children; stops and removes its compute first. */
    public Deleted deleteBranch(BranchName name) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main is the root branch and cannot be deleted; to start over, remove the repository");
        }
        Timeline timeline = repository.requireBranch(name);
        ReentrantLock lock = lockFor(timeline.id());
        lock.lock();
        try {
            List<String> children = repository.children(timeline.id()).stream()
                    .map(t -> repository.branches().nameOf(t.id())).flatMap(Optional::stream).map(BranchName::value).toList();
            if (!children.isEmpty()) {
                throw ZenithException.conflict("branch \"" + name + "\" has children: " + String.join(", ", children),
                        "delete them first (zenith branch delete " + children.get(0) + ")");
            }
            long freed = 0;
            for (ComputeNode n : List.copyOf(nodes.values())) {
                if (n.timeline().equals(timeline.id())) {
                    freed += destroyLocked(n, timeline);
                }
            }
            freed += repository.deleteBranch(name);
            log.info("branch {} deleted, {} bytes freed", name, freed);
            return new Deleted(name, freed);
        } finally {
            lock.unlock();
        }
    }

    /** Renames a branch; a running compute keeps running and new connections use the new name. */
    public void renameBranch(BranchName from, BranchName to) {
        if (from.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main cannot be renamed: connections that name no branch go to main");
        }
        repository.renameBranch(from, to);
        log.info("branch {} renamed to {}", from, to);
    }

    /** The outcome of a reset: the branch's new point, and where its old state went. */
    public record Reset(BranchName name, BranchName parent, Lsn lsn, BranchName backup) {
    }

    /**
     * Makes a branch its parent's latest state again. Its compute is stopped (clients get 57P01 from
     * Postgres's fast shutdown), the branch points at a new timeline from the parent's end of WAL, and
     * the old timeline stays as {@code backup} unless there is none. A compute that was running is
     * started again on the new state.
     */
    public Reset resetBranch(BranchName name, boolean keepBackup) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main has no parent to reset to");
        }
        Timeline old = repository.requireBranch(name);
        Timeline parent = repository.timeline(old.metadata().ancestor());
        BranchName parentName = repository.branches().nameOf(parent.id()).orElseThrow(() -> ZenithException.conflict(
                "the parent of branch \"" + name + "\" no longer has a name", "branch from another parent instead"));
        if (!keepBackup && !repository.children(old.id()).isEmpty()) {
            throw ZenithException.conflict("branch \"" + name + "\" has children that need its current state",
                    "keep a backup (leave out --no-backup), or delete its children first");
        }
        BranchName backup = keepBackup ? backupName(name) : null;
        ReentrantLock lock = lockFor(old.id());
        lock.lock();
        try {
            Optional<ComputeNode> node = nodeFor(old.id());
            boolean wasRunning = node.isPresent() && isRunning(node.get());
            node.ifPresent(n -> stopLocked(n, old));
            ParentState state;
            ReentrantLock parentLock = lockFor(parent.id());
            parentLock.lock();
            try {
                state = parentState(parent, name.value());
            } finally {
                parentLock.unlock();
            }
            Timeline fresh = repository.resetBranch(name, parent, state.mark(), state.tli(), backup);
            if (node.isPresent()) {
                ComputeNode rebound = node.get().rebound(fresh.id());
                Repository.deleteTree(dataDir(rebound));
                Repository.deleteTree(restoreDir(rebound));
                save(rebound);
                activity.remove(rebound.name());
                if (wasRunning) {
                    ReentrantLock freshLock = lockFor(fresh.id());
                    freshLock.lock();
                    try {
                        startLocked(rebound.started(rebound.onDemand(), null), fresh);
                    } finally {
                        freshLock.unlock();
                    }
                }
            }
            log.info("branch {} reset to {} at {}{}", name, parentName, state.mark(), backup == null ? "" : ", old state kept as " + backup);
            return new Reset(name, parentName, state.mark(), backup);
        } finally {
            lock.unlock();
        }
    }

    private BranchName backupName(BranchName name) {
        String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(Instant.now());
        String base = name.value().length() > 40 ? name.value().substring(0, 40) : name.value();
        return new BranchName(base + "_old_" + stamp);
    }

    /** Stops a node and removes it with its data directory; returns the bytes freed. */
    private long destroyLocked(ComputeNode node, Timeline timeline) {
        stopLocked(node, timeline);
        long bytes = Repository.sizeOf(dataDir(node));
        Repository.deleteTree(dataDir(node));
        Repository.deleteTree(restoreDir(node));
        try {
            Files.deleteIfExists(nodeFile(node));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + nodeFile(node), e);
        }
        nodes.remove(node.name());
        activity.remove(node.name());
        return bytes;
    }

    private Lsn checkInHistory(Timeline branch, BranchName name, Lsn at, Lsn start, Lsn last) {
        if (at.isBefore(start) || at.isAfter(last)) {
            throw ZenithException.badRequest("LSN " + at + " is outside branch " + name + "'s history: "
                    + (at.isBefore(start) ? "it starts at " + start : "its WAL ends at " + last)
                    + "; choose an LSN from " + start + " to " + last);
        }
        Instant horizon = retentionHorizon(branch, Instant.now());
        if (branch.wal().archived().entrySet().stream().anyMatch(f -> !f.getKey().history()
                && f.getKey().segmentNumber() == at.value() / WalFileName.SEGMENT_SIZE && modifiedBefore(f.getValue(), horizon))) {
            throw ZenithException.badRequest("LSN " + at + " of branch " + name + " is older than the retention window ("
                    + retention(branch) + ", since " + horizon + "): choose a later point, up to " + last);
        }
        return at;
    }

    private static boolean modifiedBefore(Path file, Instant time) {
        try {
            return Files.getLastModifiedTime(file).toInstant().isBefore(time);
        } catch (IOException e) {
            return false;
        }
    }

    /** A time within a branch's life; for a branch with no WAL of its own, every such time is its branch point. */
    private Lsn checkTime(Timeline parent, BranchName parentName, Instant time, Lsn start) {
        Instant now = Instant.now();
        Instant horizon = retentionHorizon(parent, now);
        Instant created = parent.metadata().createdAt().isAfter(horizon) ? parent.metadata().createdAt() : horizon;
        if (time.isAfter(now)) {
            throw ZenithException.badRequest("time " + time + " is in the future; choose a time from " + created + " to " + now);
        }
        if (time.isBefore(parent.metadata().createdAt())) {
            throw ZenithException.badRequest("time " + time + " is before branch " + parentName + " existed (created "
                    + parent.metadata().createdAt() + "); choose a time from " + created + " to " + now);
        }
        if (time.isBefore(horizon)) {
            throw ZenithException.badRequest("time " + time + " is older than the retention window of branch " + parentName
                    + " (" + retention(parent) + "); choose a time from " + created + " to " + now);
        }
        return start;
    }

    /** The LSN of the state at {@code time}: where the first transaction that ended after it starts. */
    private Lsn lsnAtTime(Timeline parent, BranchName parentName, Instant time, Lsn start, Lsn end, int currentTli) {
        checkTime(parent, parentName, time, start);
        Map<WalFileName, Path> files = new java.util.TreeMap<>();
        RecoveryPlan.latest(repository, parent).files(repository, this::livePgWal)
                .forEach((fileName, file) -> files.put(fileName, file.path()));
        WalReader reader = new WalReader(files, parent.history(currentTli, livePgWal(parent.id())));
        return reader.firstCommitAfter(time, start, end).orElse(end);
    }

    private Lsn currentLsn(ComputeNode node) {
        try {
            return Lsn.parse(queryValue(node, "SELECT pg_current_wal_insert_lsn()"));
        } catch (SQLException e) {
            throw ZenithException.failed("cannot read the WAL position of compute " + node.name() + ": " + e.getMessage(),
                    "see " + logFile(node));
        }
    }

    /** The long operations under way, with their progress. */
    public List<Operations.Operation> operations() {
        return operations.list();
    }

    public List<Status> list() {
        return nodes.values().stream().sorted(Comparator.comparing(ComputeNode::name)).map(this::status).toList();
    }

    /** The branch's read-write node (read-only views of its past are not it). */
    public Optional<ComputeNode> nodeFor(TimelineId timeline) {
        return nodes.values().stream().filter(n -> n.timeline().equals(timeline) && !n.isReadOnly()).findFirst();
    }

    /**
     * Registers a node for a branch and makes its data directory from the repository ({@code zenith pg create}).
     * Lock order everywhere: the timeline's lock, then the registry's.
     */
    public Status create(BranchName branch, String name, Integer port, String idleTimeout) {
        Timeline timeline = repository.requireBranch(branch);
        String timeout = idleTimeout == null ? null : IdleTimeout.parse(idleTimeout).toString();
        ReentrantLock lock = lockFor(timeline.id());
        lock.lock();
        try {
            ComputeNode node = register(timeline, branch, name, port, timeout);
            try (Operations.Tracker op = operations.begin("create", node.name(), branch)) {
                prepare(node, timeline, op);
                save(node);
            } catch (RuntimeException e) {
                nodes.remove(node.name());
                throw e;
            }
            return status(node);
        } finally {
            lock.unlock();
        }
    }

    private ComputeNode register(Timeline timeline, BranchName branch, String name, Integer port, String idleTimeout) {
        registryLock.lock();
        try {
            Optional<ComputeNode> existing = nodeFor(timeline.id());
            if (existing.isPresent()) {
                throw ZenithException.conflict("branch \"" + branch + "\" already has compute node " + existing.get().name(),
                        "start it with zenith pg start " + existing.get().name()
                                + " (a branch has at most one read-write compute)");
            }
            if (name != null && !BranchName.isSafeName(name)) {
                throw ZenithException.badRequest("invalid node name \"" + BranchName.printable(name)
                        + "\": use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit");
            }
            if (name != null && nodes.containsKey(name)) {
                throw ZenithException.conflict("compute node " + name + " already exists",
                        "choose another --name; zenith pg list shows the nodes");
            }
            ComputeNode node = new ComputeNode(name != null ? name : nextName(), timeline.id(), allocatePort(port),
                    Instant.now(), false, idleTimeout, false, false, null, 0);
            nodes.put(node.name(), node);
            return node;
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Starts a node by hand, given its name or its branch's; a branch with no node gets one first. It
     * runs until stopped, unless {@code idleTimeout} (or the node's own) says otherwise.
     */
    public Status start(String nameOrBranch, String idleTimeout) {
        String timeout = idleTimeout == null ? null : IdleTimeout.parse(idleTimeout).toString();
        BranchName.requireSafeName(nameOrBranch);
        ComputeNode node = nodes.get(nameOrBranch);
        if (node == null) {
            if (repository.branch(new BranchName(nameOrBranch)).isEmpty()) {
                throw ZenithException.notFound("no compute node or branch named \"" + BranchName.printable(nameOrBranch) + "\"",
                        "zenith pg list shows the nodes, zenith branch the branches");
            }
            node = nodeForBranch(new BranchName(nameOrBranch));
        }
        ReentrantLock lock = lockFor(node.timeline());
        lock.lock();
        try {
            ComputeNode current = requireNode(node.name());
            if (!isRunning(current)) {
                startLocked(current.started(false, timeout), repository.timeline(current.timeline()));
            } else if (timeout != null) {
                save(current.started(current.onDemand(), timeout));
            }
            return status(nodes.get(current.name()));
        } finally {
            lock.unlock();
        }
    }

    /**
     * For the proxy: the branch's compute, created and started if needed (once, however many clients
     * race for it), under a lease that keeps it from being suspended until the client leaves.
     */
    public Lease lease(BranchName branch) {
        return leaseOf(nodeForBranch(branch));
    }

    /** The lease is counted before the start begins, so the idle check never suspends a compute a client waits for. */
    private Lease leaseOf(ComputeNode node) {
        Activity a = activity(node.name());
        a.leases.incrementAndGet();
        try {
            ensureRunning(node, true);
            return new Lease(nodes.get(node.name()), a);
        } catch (RuntimeException e) {
            a.leases.decrementAndGet();
            throw e;
        }
    }

    /** Called when the last lease of a node closes, so an idle timeout of 0 acts at once. */
    public void onLastLeaseClosed(Runnable listener) {
        this.idleListener = listener;
    }

    /**
     * Suspends running nodes that have had no client (through the proxy or directly) for their idle
     * timeout. Run periodically by {@link IdleSuspender}.
     */
    public void suspendIdle(IdleTimeout repositoryDefault) {
        for (ComputeNode node : List.copyOf(nodes.values())) {
            if (!isRunning(node) || starting.contains(node.name())) {
                continue;
            }
            Activity a = activity(node.name());
            int backends = clientBackends(node);
            a.clientBackends = Math.max(backends, 0);
            if (a.leases.get() > 0 || backends != 0) {
                a.lastActiveNanos = System.nanoTime();
                continue;
            }
            IdleTimeout timeout = node.effectiveIdleTimeout(repositoryDefault);
            if (timeout.isNever() || System.nanoTime() - a.lastActiveNanos < timeout.duration().orElseThrow().toNanos()) {
                continue;
            }
            suspendIfIdle(node, "idle for " + timeout);
        }
    }

    /** Makes room under max_computes: the least recently used idle compute is suspended, or the start is refused. */
    private void admit(ComputeNode node) {
        admissionLock.lock();
        try {
            int max = repository.config().maxComputes();
            List<ComputeNode> active = nodes.values().stream()
                    .filter(n -> !n.name().equals(node.name()) && (starting.contains(n.name()) || isRunning(n))).toList();
            if (active.size() >= max) {
                Optional<ComputeNode> victim = active.stream()
                        .filter(n -> !starting.contains(n.name()) && activity(n.name()).leases.get() == 0)
                        .sorted(Comparator.comparingLong(n -> activity(n.name()).lastActiveNanos))
                        .filter(n -> suspendIfIdle(n, "to make room under max_computes = " + max))
                        .findFirst();
                if (victim.isEmpty()) {
                    throw ZenithException.limit("too many computes running: maxComputes is " + max
                            + " and none of the running ones is idle",
                            "disconnect the clients of another branch, stop one with zenith pg stop NAME, or raise"
                                    + " maxComputes in " + repository.root().resolve(Repository.CONFIG));
                }
            }
            starting.add(node.name());
        } finally {
            admissionLock.unlock();
        }
    }

    private boolean suspendIfIdle(ComputeNode node, String why) {
        ReentrantLock lock = lockFor(node.timeline());
        lock.lock();
        try {
            ComputeNode current = nodes.get(node.name());
            if (current == null || !isRunning(current)) {
                return false;
            }
            suspending.add(current.name()); // before the lease check: see ensureRunning
            try {
                if (activity(current.name()).leases.get() > 0 || clientBackends(current) != 0) {
                    return false;
                }
                log.info("suspending compute {}: {}", current.name(), why);
                if (current.isReadOnly()) {
                    destroyLocked(current, repository.timeline(current.timeline()));
                } else {
                    stopLocked(current, repository.timeline(current.timeline()));
                    save(current.asSuspended());
                }
                return true;
            } finally {
                suspending.remove(current.name());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Client connections on a running node other than zenith's own; -1 when it cannot be asked. */
    private int clientBackends(ComputeNode node) {
        try {
            return Integer.parseInt(queryValue(node, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND application_name IS DISTINCT FROM '" + InternalConnections.APPLICATION + "'"));
        } catch (SQLException e) {
            return -1;
        }
    }

    private ComputeNode nodeForBranch(BranchName branch) {
        Timeline timeline = repository.requireBranch(branch);
        Optional<ComputeNode> node = nodeFor(timeline.id());
        if (node.isPresent()) {
            return node.get();
        }
        try {
            return nodes.get(create(branch, null, null, null).name());
        } catch (ZenithException e) {
            return nodeFor(timeline.id()).orElseThrow(() -> e); // created by a racing caller
        }
    }

    private Activity activity(String node) {
        return activity.computeIfAbsent(node, n -> new Activity());
    }

    /**
     * Stops a node, given its name or its branch's, cleanly; with {@code destroy}, also removes it and
     * its data directory (the branch keeps its data in the repository).
     */
    /**
     * Stops a node cleanly. {@code destroy} also removes it; {@code suspend} marks it suspended, as the idle
     * check does (the console's "Suspend"): the next connection resumes it either way.
     */
    public Status stop(String nameOrBranch, boolean destroy, boolean suspend) {
        ComputeNode node = requireNode(nameOrBranch);
        String name = node.name();
        ReentrantLock lock = lockFor(node.timeline());
        lock.lock();
        try {
            node = requireNode(name);
            Timeline timeline = repository.timeline(node.timeline());
            if (destroy || node.isReadOnly()) {
                destroyLocked(node, timeline);
                return new Status(name, branchOf(node), node.timeline(), "127.0.0.1", node.port(), "destroyed",
                        null, timeline.metadata().lastLsn(), dataDir(node), user.name(), null, null, null,
                        node.readOnlyAt());
            }
            stopLocked(node, timeline);
            save(suspend ? node.asSuspended() : node.withWantRunning(false));
            return status(nodes.get(name));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Brings nodes back to what they were when the daemon last ran: running Postgres processes are
     * adopted as they are, nodes that should run but do not are started, cleanly stopped ones have the
     * end of their WAL saved.
     */
    public void reconcile() {
        for (ComputeNode node : List.copyOf(nodes.values())) {
            ReentrantLock lock = lockFor(node.timeline());
            lock.lock();
            try {
                Timeline timeline = repository.timeline(node.timeline());
                if (isRunning(node)) {
                    log.info("adopted running compute {} (pid {})", node.name(), pid(node).orElse(-1));
                } else if (node.isReadOnly()) {
                    destroyLocked(node, timeline);
                } else {
                    settleStopped(node, timeline);
                    if (node.wantRunning()) {
                        log.info("restarting compute {}, which was running before", node.name());
                        startLocked(node, timeline);
                    }
                }
            } catch (RuntimeException e) {
                log.error("cannot bring compute {} back", node.name(), e);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Stops every running compute cleanly: {@code zenith pageserver stop}. */
    @Override
    public void close() {
        internal.close();
        for (ComputeNode node : List.copyOf(nodes.values())) {
            ReentrantLock lock = lockFor(node.timeline());
            lock.lock();
            try {
                if (isRunning(node)) {
                    stopLocked(node, repository.timeline(node.timeline()));
                    save(node.withWantRunning(false));
                }
            } catch (RuntimeException e) {
                log.error("cannot stop compute {}", node.name(), e);
            } finally {
                lock.unlock();
            }
        }
    }

    public boolean isRunning(ComputeNode node) {
        return pid(node).isPresent();
    }

    public OptionalLong pid(ComputeNode node) {
        return PgCtl.postmasterPid(dataDir(node));
    }

    public Path dataDir(ComputeNode node) {
        return repository.dataDirs().resolve(node.name());
    }

    public Path logFile(ComputeNode node) {
        return logFileOf(repository, node.name());
    }

    private static Path logFileOf(Repository repository, String nodeName) {
        return repository.logsDir().resolve("compute-" + nodeName + ".log");
    }

    /**
     * The Postgres log of a read-write node, named by the node or by its branch. Read from the repository's
     * records, so {@code zenith pg logs} works with the daemon stopped.
     */
    public static Path logFile(Repository repository, String nameOrBranch) {
        BranchName.requireSafeName(nameOrBranch);
        if (Files.exists(repository.computesDir().resolve(nameOrBranch + ".json"))) {
            return logFileOf(repository, nameOrBranch);
        }
        Timeline timeline = repository.branch(new BranchName(nameOrBranch)).orElseThrow(() -> ZenithException.notFound(
                "no compute node or branch is named \"" + nameOrBranch + "\"", "zenith pg list shows the nodes"));
        return savedNodes(repository).stream()
                .filter(n -> n.timeline().equals(timeline.id()) && !n.isReadOnly())
                .findFirst().map(n -> logFileOf(repository, n.name()))
                .orElseThrow(() -> ZenithException.notFound("branch \"" + nameOrBranch + "\" has no compute yet",
                        "its log starts at its first start: zenith pg start " + nameOrBranch + ", or connect to it"));
    }

    public OsUser user() {
        return user;
    }

    /** A connection to a running node as the superuser, for zenith's own queries. */
    public Connection connect(ComputeNode node) throws SQLException {
        return internal.open(node.port());
    }

    private String queryValue(ComputeNode node, String sql) throws SQLException {
        return query(node, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /** Runs zenith's own query on a running node, on a kept connection. */
    private <T> T query(ComputeNode node, InternalConnections.Work<T> work) throws SQLException {
        return internal.with(node.port(), work);
    }

    private void startLocked(ComputeNode node, Timeline timeline) {
        maintenance.readLock().lock();
        try (Operations.Tracker op = operations.begin("start", node.name(), branchOf(node))) {
            boolean recovered = startRecovering(node, timeline, op);
            ComputeMetrics.START_SECONDS.labelValues(recovered ? "recovered" : "cached").observe(op.elapsedNanos() / 1e9);
        } catch (RuntimeException e) {
            ComputeMetrics.START_FAILURES.inc();
            throw e;
        } finally {
            maintenance.readLock().unlock();
        }
    }

    /** Starts a node; true when it was built from the repository (image and WAL), false when its data directory was kept. */
    private boolean startRecovering(ComputeNode node, Timeline timeline, Operations.Tracker op) {
        Path dataDir = dataDir(node);
        if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
            prepare(node, timeline, op);
        }
        Path planFile = dataDir.resolve(PLAN_FILE);
        boolean recovering = Files.exists(dataDir.resolve(signalFile(node)));
        RecoveryPlan plan = recovering && Files.exists(planFile) ? AtomicFiles.readJson(planFile, RecoveryPlan.class) : null;
        if (plan != null) {
            plan.writeRestoreView(repository, restoreDir(node), this::livePgWal);
            user.own(restoreDir(node), true);
        }
        checkSocketPath(node);
        writeConfig(node, timeline, plan);
        boolean setPassword = repository.config().passwordAuth() && !node.isReadOnly();
        // A read-write compute in password mode starts trusting loopback, gets the repository's
        // password set by the daemon, then requires it: branches made before the switch to password
        // have a superuser without one. Nobody is handed the compute before that is done.
        writeHba(node, repository.config().passwordAuth() && !setPassword ? "scram-sha-256" : "trust");
        user.own(timeline.wal().archiveDir(), false);
        user.own(repository.socketsDir(), false);
        Path logFile = logFile(node);
        touch(logFile);
        log.info("starting compute {} on port {}{}", node.name(), node.port(),
                node.isReadOnly() ? " (read-only at " + node.readOnlyAt() + ")" : plan == null ? "" : " (recovery)");
        op.phase("starting Postgres");
        pgCtl.start(dataDir, logFile, START_TIMEOUT);
        Failpoints.reach("compute-recovering");
        if (plan != null) {
            trackReplay(node, timeline, plan, op);
        }
        if (!node.isReadOnly()) {
            waitUntilReady(node, logFile, "SELECT NOT pg_is_in_recovery()", "finish recovery");
        } else if (plan != null && plan.stopBefore().isPresent()) {
            // a read-only view is ready once replay has paused at its target
            waitUntilReady(node, logFile, "SELECT pg_get_wal_replay_pause_state() = 'paused'", "reach " + node.readOnlyAt());
        } else {
            waitUntilReady(node, logFile, "SELECT true", "accept connections");
        }
        if (setPassword) {
            requirePasswordFrom(node, logFile);
        }
        activity.put(node.name(), new Activity());
        if (plan != null && !node.isReadOnly()) {
            try {
                Files.deleteIfExists(planFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Repository.deleteTree(restoreDir(node));
        }
        save(node.withWantRunning(true));
        return recovering;
    }

    /** A read-write node recovers then promotes (recovery.signal); a read-only one stays a standby. */
    private static String signalFile(ComputeNode node) {
        return node.isReadOnly() ? "standby.signal" : "recovery.signal";
    }

    private void stopLocked(ComputeNode node, Timeline timeline) {
        internal.discard(node.port());
        boolean wasRunning = isRunning(node);
        if (wasRunning) {
            log.info("stopping compute {}", node.name());
            pgCtl.stop(dataDir(node), logFile(node), STOP_TIMEOUT);
        }
        settleStopped(node, timeline);
        if (wasRunning && !node.isReadOnly()) {
            keepStoppedImageIfDue(node, timeline);
        }
    }

    /**
     * After a clean stop with more than {@code imageAtStopMb} of WAL since the image a rebuild would
     * use, the stopped data directory becomes a clean image (a copy, reflinked where the file system
     * can; of pg_wal only the segment holding the shutdown checkpoint). A branch made from the
     * stopped parent then starts from it with nothing to replay.
     */
    private void keepStoppedImageIfDue(ComputeNode node, Timeline timeline) {
        Path dataDir = dataDir(node);
        if (!Files.exists(dataDir.resolve("global").resolve("pg_control")) || Files.exists(dataDir.resolve("recovery.signal"))) {
            return;
        }
        PgControl control = PgControl.read(dataDir);
        long threshold = (long) repository.config().imageAtStopMb() << 20;
        Lsn replayFrom = RecoveryPlan.latest(repository, timeline).image().walStart();
        if (!control.clean() || control.checkpoint().value() - replayFrom.value() < threshold) {
            return;
        }
        Path staging = repository.tmpDir().resolve("image-" + node.name());
        Repository.deleteTree(staging);
        try (Operations.Tracker op = operations.begin("image", node.name(), branchOf(node))) {
            op.phase("making image", () -> Repository.sizeOf(dataDir), () -> Repository.sizeOf(staging));
            copyTree(dataDir, staging);
        }
        String keep = WalFileName.segmentOf(control.tli(), control.checkpoint()).toString();
        try (Stream<Path> wal = Files.list(staging.resolve("pg_wal"))) {
            for (Path f : wal.toList()) {
                if (Files.isRegularFile(f) && !f.getFileName().toString().equals(keep)) {
                    Files.delete(f);
                }
            }
            Files.deleteIfExists(staging.resolve("postmaster.opts"));
        } catch (IOException e) {
            Repository.deleteTree(staging);
            throw new UncheckedIOException("cannot prepare the image of " + node.name(), e);
        }
        timeline.addImage(staging, control.checkpoint(), control.tli());
        ComputeMetrics.IMAGES_MADE.inc();
        log.info("kept the stopped data directory of {} as an image at {}", node.name(), control.checkpoint());
    }

    /**
     * For a node that is not running: after a clean stop, saves the WAL left in its {@code pg_wal} and
     * records where the timeline's WAL ends; after a crash, runs crash recovery once (start, clean stop)
     * so that end is known and nothing the crashed Postgres acknowledged is left behind.
     */
    private void settleStopped(ComputeNode node, Timeline timeline) {
        if (node.isReadOnly()) {
            return; // a standby writes no WAL of the timeline's
        }
        Path dataDir = dataDir(node);
        if (!Files.exists(dataDir.resolve("global").resolve("pg_control")) || Files.exists(dataDir.resolve("recovery.signal"))) {
            return; // never promoted: the timeline still ends at its branch point
        }
        PgControl control = PgControl.read(dataDir);
        if (!control.clean()) {
            log.info("compute {} did not stop cleanly; running crash recovery", node.name());
            startLocked(node, timeline);
            pgCtl.stop(dataDir, logFile(node), STOP_TIMEOUT);
            control = PgControl.read(dataDir);
            save(node);
        }
        if (control.clean()) {
            timeline.wal().captureFromStoppedCompute(dataDir.resolve("pg_wal"),
                    WalFileName.segmentOf(control.tli(), control.checkpoint()));
            timeline.recordCleanStop(control.checkpoint(), control.tli());
        }
    }

    /** Makes a node's data directory: the plan's image copied in, set to recover by that plan at first start. */
    private void prepare(ComputeNode node, Timeline timeline, Operations.Tracker op) {
        RecoveryPlan plan = node.isReadOnly()
                ? RecoveryPlan.at(repository, timeline, node.readOnlyAt(), node.readOnlyTli())
                : RecoveryPlan.latest(repository, timeline);
        Path staging = repository.tmpDir().resolve("datadir-" + node.name());
        Repository.deleteTree(staging);
        op.phase("copying image", () -> Repository.sizeOf(plan.image().dataDir()), () -> Repository.sizeOf(staging));
        copyTree(plan.image().dataDir(), staging);
        Failpoints.reach("compute-staged");
        try {
            Files.createFile(staging.resolve(signalFile(node)));
            AtomicFiles.writeJson(staging.resolve(PLAN_FILE), plan);
            user.own(staging, true);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
            Path dataDir = dataDir(node);
            Repository.deleteTree(dataDir);
            AtomicFiles.moveDurably(staging, dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the data directory of " + node.name(), e);
        }
        log.info("prepared {} for timeline {} from image {}{}", node.name(), timeline.id(), plan.image().lsn(),
                plan.stopBefore().map(l -> ", replay stops before " + l).orElse(""));
    }

    /**
     * Shows WAL replay as bytes from the image to where the plan stops (or the timeline's last known LSN),
     * read from {@code pg_last_wal_replay_lsn()} once the recovering Postgres takes read-only connections.
     */
    private void trackReplay(ComputeNode node, Timeline timeline, RecoveryPlan plan, Operations.Tracker op) {
        Lsn from = plan.image().lsn();
        Lsn to = plan.stopBefore().orElse(timeline.metadata().lastLsn());
        long total = Math.max(to.value() - from.value(), 0);
        long[] replayed = {0};
        op.phase("replaying WAL", () -> total, () -> {
            try {
                String lsn = queryValue(node, "SELECT pg_last_wal_replay_lsn()");
                if (lsn != null) {
                    replayed[0] = Math.max(replayed[0], Lsn.parse(lsn).value() - from.value());
                }
            } catch (SQLException | RuntimeException notYetConsistent) {
                // no connections before consistency: the last value stands
            }
            return replayed[0];
        });
    }

    private Point restorePoint(ComputeNode node, String child) {
        String full = "zenith branch " + child;
        String pointName = full.substring(0, Math.min(63, full.length()));
        try {
            return query(node, c -> {
                c.setAutoCommit(false);
                Lsn lsn;
                int tli;
                try (Statement s = c.createStatement()) {
                    // An xid makes the commit below write a record after the restore point and flush both.
                    s.execute("SELECT txid_current()");
                    try (ResultSet rs = s.executeQuery("SELECT p, pg_walfile_name(p) FROM pg_create_restore_point('"
                            + pointName.replace("'", "''") + "') AS p")) {
                        rs.next();
                        lsn = Lsn.parse(rs.getString(1));
                        tli = Integer.parseUnsignedInt(rs.getString(2).substring(0, 8), 16);
                    }
                }
                c.commit();
                return new Point(lsn, tli);
            });
        } catch (SQLException e) {
            throw ZenithException.failed("cannot mark the branch point on compute " + node.name() + ": " + e.getMessage(),
                    "see " + logFile(node));
        }
    }

    /**
     * Waits until a started node answers {@code readySql} with true. pg_ctl -w returns as soon as a hot
     * standby accepts connections, before recovery reaches its target; handing the node out then would
     * show old data.
     */
    private void waitUntilReady(ComputeNode node, Path logFile, String readySql, String goal) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!isRunning(node)) {
                throw ZenithException.failed("Postgres for " + node.name() + " stopped during recovery: "
                        + PgCtl.lastLines(logFile), "see " + logFile);
            }
            try (Connection c = connect(node); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(readySql)) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return;
                }
            } catch (SQLException e) {
                if ("28P01".equals(e.getSQLState())) {
                    throw ZenithException.failed("Postgres for " + node.name() + " refuses the repository's password"
                            + (node.isReadOnly() ? " (at " + node.readOnlyAt() + " the superuser had no password yet)" : ""),
                            "a point after zenith auth password was turned on works; see " + logFile);
                }
                last = e; // not accepting connections yet
            }
            pause(Duration.ofMillis(20));
        }
        throw ZenithException.failed("Postgres for " + node.name() + " did not " + goal + " in "
                + START_TIMEOUT.toMinutes() + " minutes" + (last == null ? "" : ": " + last.getMessage()), "see " + logFile);
    }

    private void writeConfig(ComputeNode node, Timeline timeline, RecoveryPlan plan) {
        StringBuilder conf = new StringBuilder()
                .append("# Written by zenith before every start; put your own settings in postgresql.conf.\n")
                .append("listen_addresses = '127.0.0.1'\n")
                .append("port = ").append(node.port()).append('\n')
                .append("unix_socket_directories = ").append(quote(repository.socketsDir().toAbsolutePath().toString())).append('\n')
                .append("fsync = on\n")
                .append("wal_level = replica\n");
        if (!node.isReadOnly()) {
            conf.append("archive_mode = on\n")
                    .append("archive_library = 'basic_archive'\n")
                    .append("basic_archive.archive_directory = ")
                    .append(quote(timeline.wal().archiveDir().toAbsolutePath().toString())).append('\n');
        }
        if (plan != null) {
            conf.append("restore_command = ")
                    .append(quote("cp \"" + restoreDir(node).toAbsolutePath() + "/%f\" \"%p\"")).append('\n')
                    .append("recovery_target_timeline = 'latest'\n")
                    .append("recovery_target_action = '").append(node.isReadOnly() ? "pause" : "promote").append("'\n");
            plan.stopBefore().ifPresent(lsn -> conf
                    .append("recovery_target_lsn = '").append(lsn).append("'\n")
                    .append("recovery_target_inclusive = off\n"));
        }
        Path file = dataDir(node).resolve(CONFIG_FILE);
        AtomicFiles.write(file, conf.toString().getBytes(StandardCharsets.UTF_8));
        user.own(file, false);
    }

    private void writeHba(ComputeNode node, String method) {
        StringBuilder hba = new StringBuilder("# Written by zenith before every start (auth = ")
                .append(repository.config().auth()).append(" in config.json).\n");
        for (String database : new String[] {"all", "replication"}) {
            hba.append("local ").append(database).append(" all ").append(method).append('\n')
                    .append("host ").append(database).append(" all 127.0.0.1/32 ").append(method).append('\n')
                    .append("host ").append(database).append(" all ::1/128 ").append(method).append('\n');
        }
        Path file = dataDir(node).resolve("pg_hba.conf");
        AtomicFiles.write(file, hba.toString().getBytes(StandardCharsets.UTF_8));
        user.own(file, false);
    }

    /** Sets the repository's password on the superuser, then makes the compute require it (SCRAM). */
    private void requirePasswordFrom(ComputeNode node, Path logFile) {
        try (Connection c = connect(node); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("ALTER ROLE CURRENT_USER PASSWORD " + quote(password));
            writeHba(node, "scram-sha-256");
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw ZenithException.failed("cannot set the password on " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
        // the postmaster rereads pg_hba.conf when it gets to the signal: wait until a connection without
        // the password is refused before anyone is handed the compute
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection probe = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.port()
                    + "/postgres?user=" + repository.config().superuser() + "&connectTimeout=10")) {
                if (System.nanoTime() > deadline) {
                    throw ZenithException.failed(node.name() + " still accepts connections without a password after reloading"
                            + " pg_hba.conf", "see " + logFile);
                }
            } catch (SQLException e) {
                // 08004: pgjdbc was asked for a password it does not have
                if ("08004".equals(e.getSQLState()) || "28P01".equals(e.getSQLState())) {
                    return;
                }
                throw ZenithException.failed("cannot check that " + node.name() + " requires the password: " + e.getMessage(),
                        "see " + logFile);
            }
            pause(Duration.ofMillis(5));
        }
    }

    private static String requirePassword(Repository repository) {
        return repository.password().orElseThrow(() -> ZenithException.failed("auth is password in "
                + repository.root().resolve(Repository.CONFIG) + " but " + repository.root().resolve(Repository.PASSWORD)
                + " is missing", "set one with zenith auth password"));
    }

    private void checkSocketPath(ComputeNode node) {
        String socket = repository.socketsDir().toAbsolutePath() + "/.s.PGSQL." + node.port();
        if (socket.length() > MAX_SOCKET_PATH) {
            throw ZenithException.failed("the repository path is too long for a Unix socket: " + socket
                    + " has " + socket.length() + " characters, the limit is " + MAX_SOCKET_PATH,
                    "put the repository in a shorter path (ZENITH_REPO_DIR or --repo)");
        }
    }

    private Optional<Path> livePgWal(TimelineId timeline) {
        return nodeFor(timeline).filter(this::isRunning).map(n -> dataDir(n).resolve("pg_wal"));
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private Status status(ComputeNode node) {
        OptionalLong pid = pid(node);
        Lsn lsn = repository.timeline(node.timeline()).metadata().lastLsn();
        String state = starting.contains(node.name()) ? "starting"
                : pid.isPresent() ? "running"
                : node.suspended() ? "suspended"
                : Files.exists(dataDir(node).resolve("PG_VERSION")) ? "stopped" : "new";
        Integer connections = null;
        Long idleSeconds = null;
        if (pid.isPresent()) {
            try {
                lsn = Lsn.parse(queryValue(node, "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                        + " ELSE pg_current_wal_insert_lsn() END"));
            } catch (SQLException e) {
                state = "starting";
            }
            Activity a = activity(node.name());
            connections = Math.max(a.leases.get(), a.clientBackends);
            idleSeconds = connections == 0 ? (System.nanoTime() - a.lastActiveNanos) / 1_000_000_000L : 0L;
        }
        String timeout = node.effectiveIdleTimeout(IdleTimeout.parse(repository.config().idleTimeout())).toString();
        return new Status(node.name(), branchOf(node), node.timeline(), "127.0.0.1", node.port(), state,
                pid.isPresent() ? pid.getAsLong() : null, lsn, dataDir(node), user.name(), connections, idleSeconds, timeout,
                node.readOnlyAt());
    }

    private BranchName branchOf(ComputeNode node) {
        return repository.branches().all().entrySet().stream()
                .filter(e -> e.getValue().equals(node.timeline())).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    /** A node by its name, or by its branch's name. */
    private ComputeNode requireNode(String nameOrBranch) {
        BranchName.requireSafeName(nameOrBranch);
        ComputeNode node = nodes.get(nameOrBranch);
        if (node == null) {
            node = repository.branch(new BranchName(nameOrBranch)).flatMap(t -> nodeFor(t.id())).orElse(null);
        }
        if (node == null) {
            throw ZenithException.notFound("compute node \"" + BranchName.printable(nameOrBranch) + "\" does not exist",
                    "zenith pg list shows the nodes");
        }
        return node;
    }

    private String nextName() {
        for (int i = 1; ; i++) {
            String name = "pg" + i;
            if (!nodes.containsKey(name) && !Files.exists(repository.dataDirs().resolve(name))) {
                return name;
            }
        }
    }

    private int allocatePort(Integer requested) {
        Set<Integer> taken = nodes.values().stream().map(ComputeNode::port).collect(Collectors.toSet());
        if (requested != null) {
            if (requested < 1 || requested > 65535) {
                throw ZenithException.badRequest("invalid port " + requested + ": use 1 to 65535");
            }
            Optional<ComputeNode> owner = nodes.values().stream().filter(n -> n.port() == requested).findFirst();
            if (owner.isPresent()) {
                throw ZenithException.conflict("port " + requested + " is already used by compute node " + owner.get().name(),
                        "choose another --port, or leave it out to take the next free one");
            }
            if (!isFree(requested)) {
                throw ZenithException.conflict("port " + requested + " is in use by another program",
                        "choose another --port, or leave it out to take the next free one");
            }
            return requested;
        }
        for (int port = repository.config().computePortBase(); port <= 65535; port++) {
            if (!taken.contains(port) && isFree(port)) {
                return port;
            }
        }
        throw ZenithException.failed("no free port from " + repository.config().computePortBase() + " up", "stop other programs");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void save(ComputeNode node) {
        AtomicFiles.writeJson(nodeFile(node), node);
        nodes.put(node.name(), node);
    }

    private Path nodeFile(ComputeNode node) {
        return repository.computesDir().resolve(node.name() + ".json");
    }

    private Path restoreDir(ComputeNode node) {
        return repository.restoreDir().resolve(node.name());
    }

    private ReentrantLock lockFor(TimelineId timeline) {
        return timelineLocks.computeIfAbsent(timeline, t -> new ReentrantLock());
    }

    private void touch(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            user.own(file, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
    }

    /** Copies a data directory, cloning file extents where the file system can (reflink, APFS clones). */
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

    private static void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }
}
