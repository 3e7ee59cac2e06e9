package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.ConnectionString;
import dev.zenith.Expiry;
import dev.zenith.RepositoryConfig;
import dev.zenith.TagName;
import dev.zenith.TimelineId;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.FollowState;
import dev.zenith.model.ComputeState;
import dev.zenith.model.ComputeStatus;
import dev.zenith.postgres.PgDistributions;
import dev.zenith.storage.TimelineMetadata;
import dev.zenith.PointInTime;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.model.BranchCreated;
import dev.zenith.model.BranchDeleted;
import dev.zenith.model.BranchReset;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Retention;
import dev.zenith.storage.Tag;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * What changes branches and so may touch their computes: create (at the end of WAL or a past point),
 * delete, reset. Renames and retention windows touch no process and are the repository's own.
 */
public final class BranchOperations {

    private static final Logger log = LoggerFactory.getLogger(BranchOperations.class);
    private static final DateTimeFormatter BACKUP_STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private final Repository repository;
    private final TimelineLocks locks;
    private final ArchiveLock archive;
    private final BranchPoints points;
    private final DerivedRoots derivedRoots;
    private final BranchComputes computes;
    private final SizeCache sizes = new SizeCache(Duration.ofSeconds(5));
    /** Branches with a missing timeline, logged once each. */
    private final Followers followers;
    private final Set<TimelineId> reportedDangling = ConcurrentHashMap.newKeySet();
    /** Each root timeline's PostgreSQL major version, which never changes. */
    private final Map<TimelineId, Integer> rootVersions = new ConcurrentHashMap<>();
    /** Expired branches that could not be deleted and were logged; touched only by the expiry task. */
    private final Set<TimelineId> keptAfterExpiry = new HashSet<>();

    BranchOperations(Repository repository, TimelineLocks locks, ArchiveLock archive, BranchPoints points, BranchComputes computes,
                     Followers followers, DerivedRoots derivedRoots) {
        this.followers = followers;
        this.derivedRoots = derivedRoots;
        this.repository = repository;
        this.locks = locks;
        this.archive = archive;
        this.points = points;
        this.computes = computes;
    }

    /**
     * Creates a branch of {@code parent}: at the end of its WAL when {@code at} is null, else at that point
     * of its history. With the parent's compute running, a restore point is written inside a transaction
     * whose commit makes it durable: for "end of WAL" it is the branch point (every commit acknowledged
     * before holds, nothing after it reaches the branch); for a past LSN it guarantees WAL exists after
     * the point, which recovery needs to stop there. With no compute running, the end is where the
     * parent's WAL ended at its last clean stop.
     */
    public BranchCreated create(BranchName name, BranchName parentName, PointInTime at, String retention, String expires) {
        if (retention != null) {
            Retention.parse(retention);
        }
        Instant expiresAt = expires == null ? null : Expiry.parse(expires, Instant.now()).orElse(null);
        repository.requireNewBranchName(name);
        return locks.withBranch(repository, parentName, "branched", parent -> {
            WalPoint point = points.resolve(parent, parentName, name.value(), at);
            // shared with GC: it never sees the new timeline before its name (see ArchiveLock)
            Timeline child = archive.whileUsing(() -> repository.createBranch(name, parent, point, retention, expiresAt));
            log.info("branch {} ({}) made from {} at {}{}", name, child.id(), parentName, point.lsn(),
                    at == null ? "" : " (" + at + ")");
            return new BranchCreated(name, child.id(), parentName, point.lsn());
        });
    }

    /**
     * Deletes a branch: refused for main and for a protected branch; stops and removes its computes first.
     * Its history stays for the branches grown from it and the tags naming points of it (see
     * {@link Repository#deleteBranch}).
     */
    public BranchDeleted delete(BranchName name) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main is the root branch and cannot be deleted; to start over, remove the repository");
        }
        Optional<TimelineId> id = repository.branches().get(name);
        if (id.isPresent() && repository.timelineIfPresent(id.get()).isEmpty()) {
            repository.removeBranchName(name, id.get());
            log.warn("branch {} pointed at missing timeline {}: its name was removed", name, id.get());
            return new BranchDeleted(name, 0, List.of());
        }
        return locks.withBranch(repository, name, "deleted", timeline -> {
            requireUnprotected(name, timeline, "deleted");
            List<String> keptFor = new java.util.ArrayList<>(repository.children(timeline.id()).stream()
                    .map(t -> repository.branches().nameOf(t.id())).flatMap(Optional::stream).map(BranchName::value).toList());
            tagsOn(timeline).forEach(tag -> keptFor.add("tag " + tag));
            if (followers.isFollowed(timeline.id())) {
                followers.stop(timeline); // nothing may write into a timeline being deleted
            }
            if (repository.isNeeded(timeline)) {
                // the history they need may end in the running compute's pg_wal: a clean stop archives it
                computes.pause(timeline);
            }
            long freed = computes.discardAll(timeline.id());
            freed += archive.whileUsing(() -> repository.deleteBranch(name, timeline)); // GC sees it whole or gone
            log.info("branch {} deleted, {} bytes freed{}", name, freed,
                    keptFor.isEmpty() ? "" : "; its history stays for " + String.join(", ", keptFor));
            return new BranchDeleted(name, freed, List.copyOf(keptFor));
        });
    }

    /**
     * Renames a branch; a running compute keeps running and new connections use the new name. Under the
     * branch's timeline lock, so a delete or reset of it waits for the rename or the rename for them.
     */
    public void rename(BranchName from, BranchName to) {
        Timeline timeline = repository.requireBranch(from);
        locks.withLock(timeline.id(), () -> repository.renameBranch(from, to));
        log.info("branch {} renamed to {}", from, to);
    }

    /** Sets a branch's own retention window; null goes back to the repository's. */
    public void setRetention(BranchName name, String window) {
        repository.setRetention(name, window);
    }

    /** Sets when the daemon deletes a branch ({@code never}: it does not); returns the moment, null for never. */
    public Instant expire(BranchName name, String expires) {
        if (name.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main is the root branch and never expires");
        }
        Instant at = Expiry.parse(expires, Instant.now()).orElse(null);
        repository.requireBranch(name).setExpiry(at);
        log.info("branch {} {}", name, at == null ? "no longer expires" : "expires at " + at);
        return at;
    }

    /** Whether delete and reset of a branch are refused. */
    public enum Protection { PROTECTED, UNPROTECTED }

    /** Protects a branch from delete and reset, or lifts that; main is always protected. */
    public void protect(BranchName name, Protection protection) {
        if (name.equals(BranchName.MAIN)) {
            if (protection == Protection.UNPROTECTED) {
                throw ZenithException.badRequest("main is always protected: it is the root every branch comes from");
            }
            return;
        }
        Timeline timeline = repository.requireBranch(name);
        if ((timeline.metadata().protectedSince() != null) != (protection == Protection.PROTECTED)) {
            timeline.setProtection(protection == Protection.PROTECTED ? Instant.now() : null);
            log.info("branch {} {}", name, protection == Protection.PROTECTED ? "protected" : "no longer protected");
        }
    }

    private static void requireUnprotected(BranchName name, Timeline timeline, String what) {
        if (timeline.metadata().protectedSince() != null) {
            throw ZenithException.conflict("branch \"" + name + "\" is protected and cannot be " + what,
                    "zenith branch unprotect " + name + " first, if that is what you want");
        }
    }

    /**
     * Deletes the branches whose expiry passed, as their owner would: a compute is stopped first. One that
     * cannot go (protected) stays, and is named in the log once per daemon run.
     */
    public void deleteExpired(Instant now) {
        repository.branches().all().forEach((name, id) -> {
            Instant expiresAt = repository.timelineIfPresent(id).map(t -> t.metadata().expiresAt()).orElse(null);
            if (expiresAt == null || expiresAt.isAfter(now)) {
                return;
            }
            try {
                BranchDeleted deleted = delete(name);
                log.info("branch {} expired at {} and was deleted, {} bytes freed", name, expiresAt, deleted.freedBytes());
            } catch (ZenithException refused) {
                if (keptAfterExpiry.add(id)) {
                    log.warn("branch {} expired at {} but is kept: {}: {}", name, expiresAt, refused.getMessage(), refused.hint());
                }
            }
        });
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
        return branches.entrySet().stream().flatMap(e -> present(e.getKey(), e.getValue()).stream().map(t -> {
            TimelineMetadata md = t.metadata();
            ComputeStatus compute = computeOf.get(t.id());
            boolean running = compute != null && compute.state() == ComputeState.RUNNING;
            Optional<FollowState> following = followers.state(t.id());
            return new BranchInfo(e.getKey(), t.id(), md.ancestor() == null ? null : names.get(md.ancestor()), md.ancestorLsn(),
                    running ? compute.lsn() : following.map(f -> Lsn.parse(f.received())).orElse(md.lastLsn()), md.createdAt(),
                    compute == null ? null : compute.name(), compute == null ? ComputeState.NONE : compute.state(),
                    sizeOf.applyAsLong(t.dir()), compute == null ? 0 : sizeOf.applyAsLong(compute.dataDir()),
                    ConnectionString.of(config.proxyAddress(), config.proxyPort(), config.superuser(), e.getKey()).uri(),
                    md.expiresAt(), e.getKey().equals(BranchName.MAIN) || md.protectedSince() != null, pgVersionOf(t),
                    md.importedFrom(), following.orElse(null));
        })).toList();
    }

    /** The major version a timeline's data runs: its root's first image says, read once per root. */
    private int pgVersionOf(Timeline timeline) {
        Timeline root = timeline;
        while (root.metadata().ancestor() != null) {
            Optional<Timeline> ancestor = repository.timelineIfPresent(root.metadata().ancestor());
            if (ancestor.isEmpty()) {
                break;
            }
            root = ancestor.get();
        }
        Timeline found = root;
        return rootVersions.computeIfAbsent(root.id(), id -> found.images().stream().findFirst()
                .map(image -> PgDistributions.majorOf(image.dataDir())).orElse(0));
    }

    /** A branch's timeline; one that is missing (a damaged repository) is logged once and left out. */
    private Optional<Timeline> present(BranchName name, TimelineId id) {
        Optional<Timeline> timeline = repository.timelineIfPresent(id);
        if (timeline.isEmpty() && reportedDangling.add(id)) {
            log.error("branch {} points at timeline {}, which is missing from the repository; it is left out of listings"
                    + " (zenith branch delete {} removes the name)", name, id, name);
        }
        return timeline;
    }

    /** Whether a reset keeps the branch's previous state as a branch of its own. */
    public enum Backup { KEEP, DISCARD }

    /**
     * Makes a branch its parent's latest state again, or the state a tag names ({@code to}: a point of its
     * own history, or of another branch's). Its compute is stopped (clients get 57P01 from Postgres's fast
     * shutdown), the branch points at a new timeline from that point, and the old timeline stays as a
     * backup branch unless discarded. A compute that was running is started again on the new state.
     */
    public BranchReset reset(BranchName name, Backup backup, Optional<TagName> to) {
        Optional<DerivedRoots.Recipe> recipe = to.isPresent() ? Optional.empty()
                : repository.branch(name).flatMap(derivedRoots::recipeOf);
        if (recipe.isPresent()) {
            return remake(name, backup, recipe.get());
        }
        if (name.equals(BranchName.MAIN) && to.isEmpty()) {
            throw ZenithException.badRequest("main has no parent to reset to");
        }
        Optional<Tag> tag = to.map(repository.tags()::require);
        // under the lock: whether a branch made from it, or a tag, needs the old state is decided as it is discarded
        return locks.withBranch(repository, name, "reset", old -> {
            requireUnprotected(name, old, "reset");
            Timeline source = tag.map(t -> repository.timeline(t.timeline())).orElseGet(() -> repository.timeline(old.metadata().ancestor()));
            Optional<BranchName> sourceName = repository.branches().nameOf(source.id());
            if (sourceName.isEmpty() && tag.isEmpty()) {
                throw ZenithException.conflict("the parent of branch \"" + name + "\" was deleted, and its latest state with it",
                        "reset to a tag (zenith branch reset " + name + " --to TAG), or make a new branch from another parent");
            }
            BranchName backupName = backup == Backup.KEEP ? backupName(name) : null;
            BranchComputes.Paused paused = computes.pause(old);
            WalPoint mark = tag.isPresent() ? tag.get().point()
                    : locks.withLock(source.id(), () -> points.head(source, name.value()).mark());
            if (backupName == null) {
                // views of the old state's past go with it
                computes.discardViews(old.id());
            }
            Timeline fresh = archive.whileUsing(() -> repository.resetBranch(name, source, mark, backupName));
            paused.dropData(fresh);
            paused.resume(fresh);
            BranchName from = source.id().equals(old.id()) ? backupName : sourceName.orElse(null);
            log.info("branch {} reset to {} at {}{}{}", name, from, mark.lsn(), to.map(t -> " (tag " + t + ")").orElse(""),
                    backupName == null ? "" : ", old state kept as " + backupName);
            return new BranchReset(name, from, mark.lsn(), backupName);
        });
    }

    /**
     * Resets a derived root (schema-only, masked): made again by its recipe from its parent's latest state,
     * the copy made before the branch's lock is taken, then put in place as a reset puts a branch's.
     */
    private BranchReset remake(BranchName name, Backup backup, DerivedRoots.Recipe recipe) {
        requireUnprotected(name, repository.requireBranch(name), "reset");
        if (repository.branches().get(recipe.parent()).isEmpty()) {
            throw ZenithException.conflict("branch \"" + name + "\" was made of " + recipe.parent() + ", which was deleted",
                    "make a new one of another branch: zenith branch NAME PARENT " + (recipe.mask() == null ? "--schema-only" : "--mask RULES"));
        }
        return derivedRoots.remake(name, recipe, staged -> locks.withBranch(repository, name, "reset", old -> {
            requireUnprotected(name, old, "reset");
            BranchName backupName = backup == Backup.KEEP ? backupName(name) : null;
            BranchComputes.Paused paused = computes.pause(old);
            if (backupName == null) {
                computes.discardViews(old.id());
            }
            Timeline fresh = archive.whileUsing(() -> repository.resetRoot(name, staged.dataDir(), staged.end(), staged.origin(),
                    staged.superuser(), staged::fill, backupName));
            paused.dropData(fresh);
            paused.resume(fresh);
            log.info("branch {} made again of {}{}", name, staged.origin(), backupName == null ? "" : ", old state kept as " + backupName);
            return new BranchReset(name, recipe.parent(), staged.point(), backupName);
        }));
    }

    /** The names of the tags pointing into {@code timeline}. */
    private List<String> tagsOn(Timeline timeline) {
        return repository.tags().on(timeline.id()).stream().map(t -> t.name().value()).toList();
    }

    private static BranchName backupName(BranchName name) {
        String base = name.value().length() > 40 ? name.value().substring(0, 40) : name.value();
        return new BranchName(base + "_old_" + BACKUP_STAMP.format(Instant.now()));
    }
}
