package dev.zenith.remote;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Frees a remote: keeps the newest {@code keep} manifests of each branch, deletes the older ones, then
 * deletes every object no kept manifest names. Runs under a GC lock ({@link RemoteLocks}), so no push
 * reuses an object it is about to delete. Manifests go first: a reader of a deleted manifest meets a
 * missing manifest, never a manifest with missing objects, unless it read the manifest before the GC
 * began (a clone then fails naming the object and succeeds when run again).
 */
public final class RemoteGc {

    /** What a GC removed and kept. */
    public record Result(int manifestsRemoved, int objectsRemoved, long bytesRemoved, int objectsKept, long bytesKept) {
    }

    private final ObjectStore store;

    public RemoteGc(ObjectStore store) {
        this.store = store;
    }

    public Result collect(int keep, Consumer<String> progress) {
        try (RemoteLocks ignored = RemoteLocks.gc(store)) {
            Map<String, List<String>> manifests = BranchManifest.keysByBranch(store, "branches/");
            Set<String> reached = new HashSet<>();
            int manifestsRemoved = 0;
            for (Map.Entry<String, List<String>> branch : manifests.entrySet()) {
                List<String> newestFirst = branch.getValue();
                for (String key : newestFirst.subList(0, Math.min(keep, newestFirst.size()))) {
                    store.get(key).map(bytes -> BranchManifest.parse(bytes, key)).ifPresent(m -> reached.addAll(objects(m)));
                }
                for (String old : newestFirst.subList(Math.min(keep, newestFirst.size()), newestFirst.size())) {
                    store.delete(old);
                    manifestsRemoved++;
                }
            }
            progress.accept(reached.size() + " objects reached by " + manifests.size() + " branches");
            int removed = 0;
            int kept = 0;
            long bytesRemoved = 0;
            long bytesKept = 0;
            Instant began = Instant.now();
            for (ObjectStore.Listed object : store.listObjects("objects/")) {
                if (reached.contains(object.key()) || object.modified().isAfter(began)) {
                    kept++;
                    bytesKept += object.size();
                } else {
                    store.delete(object.key());
                    removed++;
                    bytesRemoved += object.size();
                }
            }
            return new Result(manifestsRemoved, removed, bytesRemoved, kept, bytesKept);
        }
    }

    private static Set<String> objects(BranchManifest manifest) {
        Set<String> keys = new HashSet<>();
        for (BranchManifest.TimelineEntry t : manifest.timelines()) {
            t.wal().values().forEach(r -> keys.add(r.key()));
            t.partial().values().forEach(r -> keys.add(r.key()));
            t.images().forEach(i -> keys.add(i.tar().key()));
        }
        return keys;
    }
}
