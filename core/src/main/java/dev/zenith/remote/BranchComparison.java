package dev.zenith.remote;

import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.model.RemoteState;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalArchive;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * How a local branch stands against the remote's, judged as git judges it: against the manifest both
 * last agreed on (the base, {@link RemoteTracking}). The remote went on when its newest manifest lists
 * other WAL than the base; this side went on when it has WAL the base lacks holding a commit or an abort
 * (other than the one zenith writes with a restore point when it branches from a running compute).
 * WAL with no transaction in it (a promotion, checkpoints, a clean stop) is not "going on": merely
 * starting a cloned branch writes such WAL, and a pull may drop it.
 *
 * @param theirs the remote's newest manifest of the branch, if it has one
 * @param base   the manifest both last agreed on, if any (after a comparison without one: the remote's, when
 *               this side holds all of it)
 */
public record BranchComparison(RemoteState state, Optional<BranchManifest> theirs, Optional<BranchManifest> base,
                               String detail) {

    /** How {@code local} stands against {@code theirs}, against the base {@code tracking} recorded for the branch. */
    public static BranchComparison of(Repository repository, Timeline local, RemoteTracking tracking,
                                      Optional<BranchManifest> theirs, Function<TimelineId, Optional<Path>> livePgWal) {
        if (theirs.isEmpty()) {
            return new BranchComparison(RemoteState.NOT_PUSHED, theirs, Optional.empty(), "not on the remote");
        }
        BranchManifest.TimelineEntry their = theirs.get().timelines().get(0);
        if (!their.metadata().id().equals(local.id())) {
            return new BranchComparison(RemoteState.DIVERGED, theirs, Optional.empty(), "the remote's is another branch (timeline "
                    + their.metadata().id() + " there, " + local.id() + " here)");
        }
        Optional<BranchManifest> base = tracking.base(theirs.get().branch()).filter(b -> b.timelines().get(0).metadata().id().equals(local.id()));
        if (base.isEmpty()) {
            if (!holds(local, their, tracking)) {
                return new BranchComparison(RemoteState.DIVERGED, theirs, Optional.empty(),
                        "no common state is known and the remote has WAL this branch lacks");
            }
            base = theirs;
        }
        BranchManifest.TimelineEntry agreed = base.get().timelines().get(0);
        boolean remoteWent = theirs.get().seq() != base.get().seq() && !sameWal(agreed, their);
        boolean localWent = (!newWal(local, agreed, tracking).isEmpty() || !liveWal(local, agreed, livePgWal).isEmpty())
                && committedSince(repository, local, agreed.metadata().lastLsn(), livePgWal);
        RemoteState state = remoteWent ? (localWent ? RemoteState.DIVERGED : RemoteState.BEHIND)
                : localWent ? RemoteState.AHEAD : RemoteState.IN_SYNC;
        String detail = switch (state) {
            case IN_SYNC -> "in sync (manifest " + theirs.get().seq() + ")";
            case AHEAD -> "ahead: committed here since manifest " + base.get().seq();
            case BEHIND -> "behind: the remote is at manifest " + theirs.get().seq() + ", this branch at " + base.get().seq();
            case DIVERGED -> "diverged: committed here since manifest " + base.get().seq() + ", and the remote went on to "
                    + theirs.get().seq();
            case NOT_PUSHED -> "not on the remote";
        };
        return new BranchComparison(state, theirs, base, detail);
    }

    /**
     * The branch's own WAL files the base does not list with the same content. Archived files never change,
     * so their names are enough; a captured open segment is compared by hash.
     */
    static Map<String, Path> newWal(Timeline local, BranchManifest.TimelineEntry base, RemoteTracking tracking) {
        Map<String, Path> fresh = new TreeMap<>();
        local.wal().archived().forEach((name, path) -> {
            if (!base.wal().containsKey(name.toString())) {
                fresh.put(name.toString(), path);
            }
        });
        local.wal().partial().forEach((name, path) -> {
            ObjectPacker.ObjectRef known = base.partial().get(name.toString());
            if (known == null || !known.sha256().equals(tracking.hashOf(path))) {
                fresh.put(name.toString(), path);
            }
        });
        return fresh;
    }

    /** Segments a running compute has not archived yet (in its {@code pg_wal}) that the base does not list. */
    private static List<String> liveWal(Timeline local, BranchManifest.TimelineEntry base,
                                        Function<TimelineId, Optional<Path>> livePgWal) {
        return livePgWal.apply(local.id()).map(WalArchive::list).orElse(Map.of()).keySet().stream()
                .filter(name -> !name.history()).map(WalFileName::toString)
                .filter(name -> !base.wal().containsKey(name)).toList();
    }

    private static boolean sameWal(BranchManifest.TimelineEntry a, BranchManifest.TimelineEntry b) {
        return hashes(a.wal()).equals(hashes(b.wal())) && hashes(a.partial()).equals(hashes(b.partial()));
    }

    private static Map<String, String> hashes(Map<String, ObjectPacker.ObjectRef> files) {
        Map<String, String> out = new TreeMap<>();
        files.forEach((name, ref) -> out.put(name, ref.sha256()));
        return out;
    }

    /** Whether this side has every WAL file of {@code their} with the same content (judged by hashing: rare, no base known). */
    private static boolean holds(Timeline local, BranchManifest.TimelineEntry their, RemoteTracking tracking) {
        Map<String, Path> mine = new TreeMap<>();
        local.wal().archived().forEach((n, p) -> mine.put(n.toString(), p));
        local.wal().partial().forEach((n, p) -> mine.putIfAbsent(n.toString(), p));
        Map<String, ObjectPacker.ObjectRef> theirs = new TreeMap<>(their.wal());
        theirs.putAll(their.partial());
        return theirs.entrySet().stream().allMatch(e -> mine.containsKey(e.getKey())
                && tracking.hashOf(mine.get(e.getKey())).equals(e.getValue().sha256()));
    }

    /** Whether the branch's WAL after {@code from} holds a commit or an abort (but zenith's own restore points'). */
    private static boolean committedSince(Repository repository, Timeline local, Lsn from,
                                          Function<TimelineId, Optional<Path>> livePgWal) {
        Map<WalFileName, Path> files = new TreeMap<>();
        RecoveryPlan.latest(repository, local).files(repository, livePgWal).forEach((name, f) -> files.put(name, f.path()));
        // a running compute may have been promoted onto a newer Postgres timeline than the last stop recorded
        int tli = files.keySet().stream().mapToInt(WalFileName::tli).max().orElse(local.metadata().lastTli());
        WalReader reader = new WalReader(files, local.history(Math.max(tli, local.metadata().lastTli()), livePgWal.apply(local.id())));
        return reader.hasTransactionsAfter(from, new Lsn(Long.MAX_VALUE));
    }
}
