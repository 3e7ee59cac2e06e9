package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.ConnectionString;
import dev.zenith.RepositoryConfig;
import dev.zenith.TimelineId;
import dev.zenith.api.model.BranchInfo;
import dev.zenith.api.model.ComputeState;
import dev.zenith.api.model.ComputeStatus;
import dev.zenith.storage.TimelineMetadata;
import dev.zenith.PointInTime;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.api.model.BranchCreated;
import dev.zenith.api.model.BranchDeleted;
import dev.zenith.api.model.BranchReset;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Retention;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;

/**
 * What changes branches and so may touch their computes: create (at the end of WAL or a past point),
 * delete, reset. Renames and retention windows touch no process and are the repository's own.
 */
public final class BranchOperations {

    private static final Logger log = LoggerFactory.getLogger(BranchOperations.class);
    private static final DateTimeFormatter BACKUP_STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private final Repository repository;
    private final NodeRegistry registry;
    private final TimelineLocks locks;
    private final BranchPoints points;
    private final NodeLifecycle lifecycle;
    private final Leases leases;
    private final SizeCache sizes = new SizeCache(Duration.ofSeconds(5));

    BranchOperations(Repository repository, NodeRegistry registry, TimelineLocks locks, BranchPoints points,
                     NodeLifecycle lifecycle, Leases leases) {
        this.repository = repository;
        this.registry = registry;
        this.locks = locks;
        this.points = points;
        this.lifecycle = lifecycle;
        this.leases = leases;
    }

    /**
     * Creates a branch of {@code parent}: at the end of its WAL when {@code at} is null, else at that point
     * of its history. With the parent's compute running, a restore point is written inside a transaction
     * whose commit makes it durable: for "end of WAL" it is the branch point (every commit acknowledged
     * before holds, nothing after it reaches the branch); for a past LSN it guarantees WAL exists after
     * the point, which recovery needs to stop there. With no compute running, the end is where the
     * parent's WAL ended at its last clean stop.
     */
    public BranchCreated create(BranchName name, BranchName parentName, PointInTime at, String retention) {
        if (retention != null) {
            Retention.parse(retention);
        }
        Timeline parent = repository.requireBranch(parentName);
        repository.requireNewBranchName(name);
        return locks.withLock(parent.id(), () -> {
            WalPoint point = points.resolve(parent, parentName, name.value(), at);
            Timeline child = repository.createBranch(name, parent, point, retention);
            log.info("branch {} ({}) made from {} at {}{}", name, child.id(), parentName, point.lsn(),
                    at == null ? "" : " (" + at + ")");
            return new BranchCreated(name, child.id(), parentName, point.lsn());
        });
    }

    /** Deletes a branch: refused for main and for branches with children; stops and removes its computes first. */
    public BranchDeleted delete(BranchName name) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main is the root branch and cannot be deleted; to start over, remove the repository");
        }
        Timeline timeline = repository.requireBranch(name);
        return locks.withLock(timeline.id(), () -> {
            List<String> children = repository.children(timeline.id()).stream()
                    .map(t -> repository.branches().nameOf(t.id())).flatMap(Optional::stream).map(BranchName::value).toList();
            if (!children.isEmpty()) {
                throw ZenithException.conflict("branch \"" + name + "\" has children: " + String.join(", ", children),
                        "delete them first (zenith branch delete " + children.get(0) + ")");
            }
            long freed = 0;
            for (ComputeNode n : registry.all()) {
                if (n.timeline().equals(timeline.id())) {
                    freed += lifecycle.destroy(n, timeline);
                }
            }
            freed += repository.deleteBranch(name);
            log.info("branch {} deleted, {} bytes freed", name, freed);
            return new BranchDeleted(name, freed);
        });
    }

    /** Renames a branch; a running compute keeps running and new connections use the new name. */
    public void rename(BranchName from, BranchName to) {
        repository.renameBranch(from, to);
        log.info("branch {} renamed to {}", from, to);
    }

    /** Sets a branch's own retention window; null goes back to the repository's. */
    public void setRetention(BranchName name, String window) {
        repository.setRetention(name, window);
    }

    /**
     * Every branch as {@code zenith branch} and the console show it, with its compute's state from
     * {@code computes} (asked once by the caller) and its disk use as fresh as {@code disk} says.
     */
    public List<BranchInfo> list(List<ComputeStatus> computes, DiskUse disk) {
        ToLongFunction<Path> sizeOf = disk == DiskUse.NOW ? FileTrees::sizeOf : sizes::sizeOf;
        Map<BranchName, TimelineId> branches = repository.branches().all(); // one snapshot for names and rows
        Map<TimelineId, BranchName> names = new HashMap<>();
        branches.forEach((name, id) -> names.put(id, name));
        Map<TimelineId, ComputeStatus> computeOf = new HashMap<>();
        computes.stream().filter(c -> c.readOnlyAt() == null).forEach(c -> computeOf.put(c.timeline(), c));
        RepositoryConfig config = repository.config();
        return branches.entrySet().stream().map(e -> {
            Timeline t = repository.timeline(e.getValue());
            TimelineMetadata md = t.metadata();
            ComputeStatus compute = computeOf.get(t.id());
            boolean running = compute != null && compute.state() == ComputeState.RUNNING;
            return new BranchInfo(e.getKey(), t.id().value(), md.ancestor() == null ? null : names.get(md.ancestor()),
                    md.ancestorLsn() == null ? null : md.ancestorLsn().toString(),
                    (running ? compute.lsn() : md.lastLsn()).toString(), md.createdAt().toString(),
                    compute == null ? null : compute.name(), compute == null ? "none" : compute.state().toString(),
                    sizeOf.applyAsLong(t.dir()), compute == null ? 0 : sizeOf.applyAsLong(compute.dataDir()),
                    ConnectionString.of(config.proxyAddress(), config.proxyPort(), config.superuser(), e.getKey()).uri());
        }).toList();
    }

    /** Whether a reset keeps the branch's previous state as a branch of its own. */
    public enum Backup { KEEP, DISCARD }

    /**
     * Makes a branch its parent's latest state again. Its compute is stopped (clients get 57P01 from
     * Postgres's fast shutdown), the branch points at a new timeline from the parent's end of WAL, and
     * the old timeline stays as a backup branch unless discarded. A compute that was running is started
     * again on the new state.
     */
    public BranchReset reset(BranchName name, Backup backup) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main has no parent to reset to");
        }
        Timeline old = repository.requireBranch(name);
        Timeline parent = repository.timeline(old.metadata().ancestor());
        BranchName parentName = repository.branches().nameOf(parent.id()).orElseThrow(() -> ZenithException.conflict(
                "the parent of branch \"" + name + "\" no longer has a name", "branch from another parent instead"));
        if (backup == Backup.DISCARD && !repository.children(old.id()).isEmpty()) {
            throw ZenithException.conflict("branch \"" + name + "\" has children that need its current state",
                    "keep a backup (leave out --no-backup), or delete its children first");
        }
        BranchName backupName = backup == Backup.KEEP ? backupName(name) : null;
        return locks.withLock(old.id(), () -> {
            Optional<ComputeNode> node = registry.readWriteNodeOf(old.id());
            boolean wasRunning = node.isPresent() && registry.paths(node.get()).isRunning();
            node.ifPresent(n -> lifecycle.stop(n, old));
            WalPoint mark = locks.withLock(parent.id(), () -> points.head(parent, name.value()).mark());
            Timeline fresh = repository.resetBranch(name, parent, mark, backupName);
            node.ifPresent(n -> rebind(n, fresh, wasRunning));
            log.info("branch {} reset to {} at {}{}", name, parentName, mark.lsn(),
                    backupName == null ? "" : ", old state kept as " + backupName);
            return new BranchReset(name, parentName, mark.lsn(), backupName);
        });
    }

    /** The branch's node now serves its new timeline, from an empty data directory; started again if it ran. */
    private void rebind(ComputeNode node, Timeline fresh, boolean start) {
        ComputeNode rebound = node.rebound(fresh.id());
        NodePaths paths = registry.paths(rebound);
        FileTrees.deleteTree(paths.dataDir());
        FileTrees.deleteTree(paths.restoreDir());
        registry.save(rebound);
        leases.forget(rebound.name());
        if (start) {
            locks.withLock(fresh.id(), () -> lifecycle.start(rebound.started(rebound.startedBy(), null), fresh));
        }
    }

    private static BranchName backupName(BranchName name) {
        String base = name.value().length() > 40 ? name.value().substring(0, 40) : name.value();
        return new BranchName(base + "_old_" + BACKUP_STAMP.format(Instant.now()));
    }
}
