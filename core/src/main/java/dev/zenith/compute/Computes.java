package dev.zenith.compute;

import dev.zenith.schema.SchemaComparison;
import dev.zenith.schema.SchemaSnapshot;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.postgres.PgDistributions;
import dev.zenith.BranchName;
import dev.zenith.BranchPoint;
import dev.zenith.IdleTimeout;
import dev.zenith.PointInTime;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.model.SpareStatus;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.GcResult;
import dev.zenith.model.OperationInfo;
import dev.zenith.model.SchemaDiff;
import dev.zenith.storage.CloneProbe;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The compute nodes of a repository and their lifecycle, as HikariPool runs its pool's: this class
 * wires the parts and decides when a node starts or stops; the parts do the work. See the class map in
 * docs/ARCHITECTURE.md. Locks: each node's timeline lock ({@link TimelineLocks}) around every start and
 * stop, admission's lock around counting running computes.
 */
public final class Computes implements ComputeLeases, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Computes.class);

    private final Repository repository;
    private final NodeRegistry registry;
    private final TimelineLocks locks = new TimelineLocks();
    private final ArchiveLock archive = new ArchiveLock();
    private final NodeStates states = new NodeStates();
    private final Leases leases = new Leases(node -> states.of(node).admitsClients());
    private final Operations operations = new Operations();
    private final ComputeSql sql;
    private final DataDirMaker dataDirs;
    private final NodeLifecycle lifecycle;
    private final Images images;
    private final Admission admission;
    private final Suspender suspender;
    private final ReadOnlyViews readOnlyViews;
    private final BranchLog branchLog;
    private final BranchPoints points;
    private final Bisect bisect;
    private final BranchOperations branches;
    private final TagOperations tags;
    private final BranchSync sync;
    private final Imports imports;
    private final DerivedRoots derivedRoots;
    private final Followers followers;
    private final StatusView status;
    private final PgCtl pgCtl;

    public Computes(Repository repository, PgDistributions dists, OsUser user) {
        this.repository = repository;
        RepositoryConfig config = repository.config();
        Optional<String> password = config.passwordAuth() ? Optional.of(repository.requirePassword()) : Optional.empty();
        this.registry = new NodeRegistry(repository);
        Superusers superusers = new Superusers(repository);
        this.sql = new ComputeSql(config.superuser(), node -> superusers.of(node.timeline()), repository.socketsDir(), password.orElse(null));
        PostgresConfig postgresConfig = new PostgresConfig(user);
        FileCopies copies = CloneProbe.clones(repository.tmpDir()) ? FileCopies.CLONE : FileCopies.WRITE;
        this.dataDirs = new DataDirMaker(repository, user, copies, archive);
        this.images = new Images(repository, registry, locks, sql, dataDirs, operations, user, archive, copies);
        this.admission = new Admission(config.maxComputes(), repository.root().resolve(Repository.CONFIG), registry, states, leases);
        this.pgCtl = new PgCtl(dists, user);
        PostgresConfig.WalSettings walSettings = new PostgresConfig.WalSettings(copies, config.walCompression());
        this.followers = new Followers(repository, new FollowedImages(repository, locks, archive, dataDirs, pgCtl, user, walSettings));
        this.lifecycle = new NodeLifecycle(repository, pgCtl, user, registry, sql, postgresConfig,
                password.map(p -> new PasswordSwitch(sql, postgresConfig, p)), dataDirs, images, leases,
                states, admission, archive, operations, walSettings);
        this.suspender = new Suspender(repository, registry, locks, leases, states, sql, lifecycle);
        BranchComputes branchComputes = new BranchComputes(registry, lifecycle, leases, locks);
        this.points = new BranchPoints(repository, branchComputes, sql, followers);
        this.readOnlyViews = new ReadOnlyViews(repository, registry, locks, points);
        this.branchLog = new BranchLog(repository, registry::livePgWal, this::catalogOf);
        this.bisect = new Bisect(repository, branchLog,
                (timeline, branch, at) -> lsnOf(timeline, branch, "zenith bisect", at),
                this::resultAt);
        this.derivedRoots = new DerivedRoots(repository, locks, archive, points, dataDirs, pgCtl, user, walSettings, superusers,
                operations, registry::livePgWal);
        this.branches = new BranchOperations(repository, locks, archive, points, branchComputes, followers, derivedRoots);
        this.tags = new TagOperations(repository, locks, points);
        this.sync = new BranchSync(repository, locks, archive, branchComputes, sql, operations);
        this.imports = new Imports(repository, dists, user, archive, operations, followers, derivedRoots);
        this.status = new StatusView(repository, registry, leases, states, sql, user.name());
    }

    /** Runs initdb for a new repository and makes the result the root timeline's first image. */
    public static void initRoot(Repository repository, PgDistribution dist, OsUser user) {
        DataDirMaker.initRoot(repository, dist, user);
    }

    /** The Postgres log of a node named by itself or its branch, from the repository's records (no daemon needed). */
    public static Path logFile(Repository repository, String nameOrBranch) {
        return NodeRegistry.logFile(repository, nameOrBranch);
    }

    /** Push and pull of this repository's branches. */
    public BranchSync sync() {
        return sync;
    }

    /** Starts receiving WAL for the branches that follow their sources: once, when the daemon starts. */
    public void startFollowing() {
        followers.startAll();
    }

    /** How each branch that follows its source stands, by branch name. */
    public java.util.Map<String, dev.zenith.model.FollowState> following() {
        java.util.Map<String, dev.zenith.model.FollowState> states = new java.util.TreeMap<>();
        repository.branches().all().forEach((name, id) -> followers.state(id).ifPresent(s -> states.put(name.value(), s)));
        return states;
    }

    /** {@code zenith import --stop-following BRANCH}: the branch keeps what it received and takes writes again. */
    public void stopFollowing(BranchName branch) {
        locks.withBranch(repository, branch, "stopped following", timeline -> {
            if (!followers.isFollowed(timeline.id())) {
                throw ZenithException.conflict("branch " + branch + " follows no source", "zenith branch shows which do");
            }
            followers.stop(timeline);
            return null;
        });
    }

    /** Branches that are new roots made of another branch's data: schema-only. */
    public DerivedRoots derivedRoots() {
        return derivedRoots;
    }

    /** Databases brought in from elsewhere as new root branches. */
    public Imports imports() {
        return imports;
    }

    public BranchOperations branches() {
        return branches;
    }

    public TagOperations tags() {
        return tags;
    }

    @Override
    public Lease lease(BranchName branch) {
        return leaseOf(nodeForBranch(branch));
    }

    @Override
    public Lease leaseReadOnly(BranchName branch, PointInTime at) {
        return leaseOf(readOnlyViews.node(branch, at));
    }

    private Lease leaseOf(ComputeNode node) {
        return leases.hold(node, registry.paths(node).socket(), () -> ensureRunning(node, StartedBy.CONNECTION));
    }

    /**
     * What differs in the schema between two branches or points. Their computes (read-only views for
     * points) start if needed, and are leased while read, so neither is suspended under the reading.
     */
    public SchemaDiff diff(BranchPoint from, BranchPoint to) {
        SchemaSnapshot before = schemaOf(from);
        SchemaSnapshot after = schemaOf(to);
        return SchemaComparison.of(from.toString(), before, to.toString(), after);
    }

    /**
     * {@code zenith log}: the branch's transactions newest first, each handed to {@code out} as soon as it is
     * known. The branch's compute starts if needed (and read-only views, for tables dropped since), for names.
     */
    public void log(BranchName branch, PointInTime since, PointInTime until, java.util.Set<String> tables, Integer limit,
                    java.util.function.Consumer<dev.zenith.model.LogEntry> out) {
        branchLog.write(branch, since, until, tables, limit, out);
    }

    /**
     * {@code zenith diff --data}: the rows that differ between two branches or points, per table, at most
     * {@code limit} listed each. Tables the WAL shows neither side changed since their common history are
     * not read. Both computes (read-only views for points) start if needed and are leased while read.
     */
    public dev.zenith.model.DataDiff diffData(BranchPoint from, BranchPoint to, java.util.Set<String> tables, int limit) {
        dev.zenith.schema.DataComparison.UnchangedCheck unchanged = branchLog.unchangedCheck(
                repository.requireBranch(from.branch()), pointOf(from), repository.requireBranch(to.branch()), pointOf(to));
        ComputeNode a = nodeOf(from);
        ComputeNode b = nodeOf(to);
        try (Lease heldA = leaseOf(a); Lease heldB = leaseOf(b);
             java.sql.Connection ca = sql.connect(registry.require(a.name()));
             java.sql.Connection cb = sql.connect(registry.require(b.name()))) {
            List<dev.zenith.model.DataDiff.Table> compared = dev.zenith.schema.DataComparison.compare(ca, cb, tables, limit, unchanged);
            return new dev.zenith.model.DataDiff(from.toString(), to.toString(),
                    compared.stream().allMatch(dev.zenith.model.DataDiff.Table::equal), compared);
        } catch (java.sql.SQLException e) {
            throw ZenithException.failed("cannot compare the data of " + from + " and " + to + ": " + e.getMessage(),
                    "see the computes' logs (zenith pg list)");
        }
    }

    /** The LSN a side names, resolved as a view would; null for a branch now. */
    private dev.zenith.Lsn pointOf(BranchPoint side) {
        if (side.at() == null) {
            return null;
        }
        return lsnOf(repository.requireBranch(side.branch()), side.branch(), side.toString(), side.at());
    }

    /** Where {@code at} (null: the end now, marked {@code markName}) lies in a branch's history, under its timeline's lock. */
    private dev.zenith.Lsn lsnOf(Timeline timeline, BranchName branch, String markName, PointInTime at) {
        return locks.withLock(timeline.id(), () -> points.resolve(timeline, branch, markName, at)).lsn();
    }

    /** The node showing a side: the branch's read-write node now, or a read-only view of its point. */
    private ComputeNode nodeOf(BranchPoint side) {
        return side.at() == null ? nodeForBranch(side.branch()) : readOnlyViews.node(side.branch(), side.at());
    }

    /**
     * {@code zenith bisect}: the first transaction of the branch between {@code good} (null: its start) and
     * {@code bad} (null: now) after which {@code query}'s result changed (or stopped being {@code expect}).
     */
    public void bisect(BranchName branch, String query, PointInTime good, PointInTime bad, String expect,
                       java.util.function.Consumer<dev.zenith.model.BisectStep> out) {
        bisect.run(branch, query, good, bad, expect, out);
    }

    /** A probe of bisect: the query on a read-only view of the point, removed after unless a client holds it. */
    private String resultAt(BranchName branch, dev.zenith.Lsn at, String query) {
        ComputeNode node = readOnlyViews.node(branch, new PointInTime.AtLsn(at));
        String result;
        try (Lease held = leaseOf(node)) {
            ComputeNode running = registry.require(node.name());
            result = sql.resultOf(running, query);
        }
        if (leases.of(node.name()).leases() == 0) {
            try {
                stop(node.name(), StopMode.DESTROY);
            } catch (ZenithException gone) {
                // removed meanwhile by its idle timeout
            }
        }
        return result;
    }

    private dev.zenith.history.Catalog catalogOf(BranchPoint side) {
        ComputeNode node = nodeOf(side);
        try (Lease held = leaseOf(node)) {
            ComputeNode running = registry.require(node.name());
            return sql.catalog(running, registry.paths(running).logFile());
        }
    }

    private SchemaSnapshot schemaOf(BranchPoint side) {
        ComputeNode node = nodeOf(side);
        try (Lease held = leaseOf(node)) {
            ComputeNode running = registry.require(node.name());
            return sql.schema(running, registry.paths(running).logFile());
        }
    }

    /** {@code zenith pg start BRANCH --at POINT}: a read-only view of the past, started by hand. */
    public ComputeStatus startReadOnly(BranchName branch, PointInTime at) {
        ComputeNode node = readOnlyViews.node(branch, at);
        ensureRunning(node, StartedBy.HAND);
        return status.of(registry.require(node.name()));
    }

    /** Registers a node for a branch and makes its data directory from the repository ({@code zenith pg create}). */
    public ComputeStatus create(BranchName branch, String name, Integer port, String idleTimeout) {
        refuseWritesIfFollowed(repository.requireBranch(branch).id());
        Timeline timeline = repository.requireBranch(branch);
        String timeout = idleTimeout == null ? null : IdleTimeout.parse(idleTimeout).toString();
        return locks.withLock(timeline.id(), () -> {
            Optional<StandbySpare.Taken> standby = name == null && port == null ? lifecycle.standbyFor(timeline) : Optional.empty();
            ComputeNode node;
            try {
                node = standby.isPresent() ? registry.registerOn(standby.get().at(), timeline, branch, timeout)
                        : registry.register(timeline, branch, name, port, timeout);
            } catch (RuntimeException e) {
                standby.ifPresent(lifecycle::dropStandby);
                throw e;
            }
            try {
                if (standby.isPresent()) {
                    lifecycle.createOnStandby(node, timeline, standby.get());
                } else {
                    lifecycle.create(node, timeline);
                }
                registry.save(node);
            } catch (RuntimeException e) {
                registry.unregister(node);
                throw e;
            }
            return status.of(node);
        });
    }

    /**
     * Starts a node by hand, given its name or its branch's; a branch with no node gets one first. It runs
     * until stopped, unless {@code idleTimeout} (or the node's own) says otherwise.
     */
    public ComputeStatus start(String nameOrBranch, String idleTimeout) {
        String timeout = idleTimeout == null ? null : IdleTimeout.parse(idleTimeout).toString();
        ComputeNode node = registry.lookup(nameOrBranch).orElseGet(() -> {
            BranchName branch = new BranchName(nameOrBranch);
            if (repository.branch(branch).isEmpty()) {
                throw ZenithException.notFound("no compute node or branch named \"" + BranchName.printable(nameOrBranch) + "\"",
                        "zenith pg list shows the nodes, zenith branch the branches");
            }
            return nodeForBranch(branch);
        });
        makeRoomFor(node);
        return locks.withLock(node.timeline(), () -> {
            ComputeNode current = registry.require(node.name());
            // a running postmaster that takes no clients yet is a standby spare the node was registered on
            if (!states.of(current.name()).admitsClients() || !registry.paths(current).isRunning()) {
                startStopped(current.started(StartedBy.HAND, timeout));
            } else if (timeout != null) {
                registry.save(current.started(current.startedBy(), timeout));
            }
            return status.of(registry.require(current.name()));
        });
    }

    /** Stops a node, given its name or its branch's, as {@code mode} says; a read-only view is always removed. */
    public ComputeStatus stop(String nameOrBranch, StopMode mode) {
        ComputeNode node = registry.require(nameOrBranch);
        return locks.withLock(node.timeline(), () -> {
            ComputeNode current = registry.require(node.name());
            Timeline timeline = repository.timeline(current.timeline());
            if (mode == StopMode.DESTROY || current.isReadOnly()) {
                lifecycle.destroy(current, timeline);
                return status.destroyed(current);
            }
            lifecycle.stop(current, timeline);
            registry.save(mode == StopMode.SUSPEND ? current.asSuspended() : current.withWantRunning(false));
            return status.of(registry.require(current.name()));
        });
    }

    public List<ComputeStatus> list() {
        return registry.all().stream().map(status::of).toList();
    }

    /** The long operations under way, with their progress. */
    public List<OperationInfo> operations() {
        return operations.list();
    }

    /** Removes what no branch needs for its latest state, its retention window or its children. */
    public GcResult collectGarbage() {
        return GarbageCollection.run(repository, archive, operations);
    }

    /** The spare data directories ready now ({@link SpareDataDirs}), and their budget where copies are written. */
    public SpareStatus spares() {
        if (!repository.config().keepsSpares()) {
            return new SpareStatus(0, 0, 0L);
        }
        SpareDataDirs.State state = dataDirs.spares();
        return new SpareStatus(state.ready(), state.bytes(), state.budgetBytes() == Long.MAX_VALUE ? null : state.budgetBytes());
    }

    /** Removes spare data directories unused for a while ({@link SpareDataDirs}). */
    public void pruneSpares() {
        dataDirs.pruneSpares(Instant.now());
        lifecycle.pruneStandby(Instant.now());
    }

    /** Makes an image of every running compute with more than {@code thresholdBytes} of WAL since its branch's image. */
    public void makeImagesWhereDue(long thresholdBytes) {
        images.makeWhereDue(thresholdBytes);
    }

    /** Suspends running computes that have had no client for their idle timeout. */
    public void suspendIdle(IdleTimeout repositoryDefault) {
        suspender.suspendIdle(repositoryDefault);
    }

    /** Called when the last lease of a compute closes, so an idle timeout of 0 acts at once. */
    public void onLastLeaseClosed(Runnable listener) {
        leases.onLastLeaseClosed(listener);
    }

    /**
     * Brings nodes back to what they were when the daemon last ran: running Postgres processes are adopted
     * as they are, nodes that should run but do not are started, cleanly stopped ones have their WAL's end saved.
     */
    public void reconcile() {
        StandbySpare.removeLeftovers(repository, pgCtl);
        forEachNode("bring back", node -> lifecycle.bringBack(node, repository.timeline(node.timeline())));
    }

    /** Stops every running compute cleanly: {@code zenith pageserver stop}. */
    @Override
    public void close() {
        lifecycle.closeStandby();
        followers.close();
        dataDirs.close();
        sql.close();
        forEachNode("stop", node -> lifecycle.shutDown(node, repository.timeline(node.timeline())));
    }

    /**
     * Starts a node unless it runs, once however many callers race, within maxComputes. Only a
     * {@link NodeState#RUNNING} node whose Postgres is alive is handed out at once; one starting or stopping
     * (by anyone: a suspend, a reset, a pull, by hand) is waited for under the timeline's lock, then started.
     */
    private void ensureRunning(ComputeNode node, StartedBy by) {
        if (states.of(node.name()).admitsClients() && registry.paths(node).isRunning()) {
            return;
        }
        if (!node.isReadOnly()) {
            refuseWritesIfFollowed(node.timeline());
        }
        makeRoomFor(node);
        locks.withLock(node.timeline(), () -> {
            ComputeNode current = registry.require(node.name());
            if (!states.of(current.name()).admitsClients() || !registry.paths(current).isRunning()) {
                startStopped(current.started(by, null));
            }
        });
    }

    /** Under the node's timeline lock: starts it, settling first a Postgres that died while it was thought running. */
    private void startStopped(ComputeNode node) {
        Timeline timeline = repository.timeline(node.timeline());
        if (states.of(node.name()) == NodeState.RUNNING) {
            lifecycle.stop(node, timeline);
        }
        lifecycle.start(node, timeline);
    }

    /** Before a start, with no timeline lock held: suspends an idle compute if maxComputes is reached. */
    private void makeRoomFor(ComputeNode node) {
        if (states.of(node.name()) == NodeState.STOPPED) {
            admission.makeRoom(node, n -> suspender.suspendIfIdle(n, "to make room under max_computes = " + admission.maxComputes()));
        }
    }

    /** The branch's read-write node, created if it has none (a racing caller may create it first). */
    private ComputeNode nodeForBranch(BranchName branch) {
        Timeline timeline = repository.requireBranch(branch);
        refuseWritesIfFollowed(timeline.id());
        return registry.readWriteNodeOf(timeline.id()).orElseGet(() -> {
            try {
                return registry.require(create(branch, null, null, null).name());
            } catch (ZenithException e) {
                return registry.readWriteNodeOf(timeline.id()).orElseThrow(() -> e);
            }
        });
    }

    /** A followed branch's history is its source's: a compute writing on it would fork it. */
    private void refuseWritesIfFollowed(dev.zenith.TimelineId timeline) {
        if (followers.isFollowed(timeline)) {
            String branch = repository.branches().nameOf(timeline).map(BranchName::value).orElse(timeline.value());
            throw ZenithException.conflict("branch " + branch + " follows its source and takes no writes",
                    "branch it (zenith branch NEW " + branch + ", or --at -10m for the past), or read its past"
                            + " (options=branch=" + branch + "@-1m)");
        }
    }

    /** Runs {@code work} on every node under its timeline's lock; a failure is logged and the next node goes on. */
    private void forEachNode(String what, java.util.function.Consumer<ComputeNode> work) {
        for (ComputeNode node : registry.all()) {
            try {
                locks.withLock(node.timeline(), () -> work.accept(node));
            } catch (RuntimeException e) {
                log.error("cannot {} compute {}", what, node.name(), e);
            }
        }
    }

}
