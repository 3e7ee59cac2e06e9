package dev.zenith.remote;

import dev.zenith.Json;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Keeps a remote's GC and its pushes apart, as restic keeps its prune and its backups: each writes a lock
 * object ({@code locks/push-ID.json}, {@code locks/gc-ID.json}) first, then looks for the other kind; one
 * that finds the other removes its own and gives way. Both may give way at once; neither can miss the
 * other, since each lists only after its own lock is written. A push must not run beside a GC because a
 * push reuses objects already on the remote, which the GC may be about to delete. Locks older than
 * {@link #STALE} are left by a process that died and are ignored.
 */
public final class RemoteLocks implements AutoCloseable {

    static final Duration STALE = Duration.ofHours(1);

    /** What a lock object says. */
    record Holder(String kind, String host, long pid, String at) {
    }

    private final ObjectStore store;
    private final String key;

    private RemoteLocks(ObjectStore store, String key) {
        this.store = store;
        this.key = key;
    }

    /** Held while pushing; refused while a GC of the remote runs. */
    public static RemoteLocks push(ObjectStore store) {
        return take(store, "push", "gc", "a GC of the remote is running");
    }

    /** Held while collecting; refused while a push runs. */
    public static RemoteLocks gc(ObjectStore store) {
        return take(store, "gc", "push", "a push to the remote is under way");
    }

    private static RemoteLocks take(ObjectStore store, String kind, String other, String why) {
        String key = "locks/" + kind + "-" + UUID.randomUUID() + ".json";
        Holder me = new Holder(kind, host(), ProcessHandle.current().pid(), Instant.now().toString());
        try {
            store.putIfAbsent(key, Json.MAPPER.writeValueAsBytes(me));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RemoteLocks lock = new RemoteLocks(store, key);
        Instant staleBefore = Instant.now().minus(STALE);
        List<ObjectStore.Listed> others = store.listObjects("locks/" + other + "-").stream()
                .filter(l -> l.modified().isAfter(staleBefore)).toList();
        if (!others.isEmpty()) {
            lock.close();
            String holder = store.get(others.get(0).key()).map(RemoteLocks::describe).orElse("");
            throw ZenithException.conflict(why + holder, "try again when it has ended (a lock left by a process that died "
                    + "is ignored after " + STALE.toMinutes() + " minutes: " + others.get(0).key() + ")");
        }
        return lock;
    }

    private static String describe(byte[] bytes) {
        try {
            Holder h = Json.MAPPER.readValue(bytes, Holder.class);
            return " (since " + h.at() + ", " + h.host() + " pid " + h.pid() + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown host";
        }
    }

    @Override
    public void close() {
        try {
            store.delete(key);
        } catch (ZenithException unreachable) {
            // the lock goes stale on its own
        }
    }
}
