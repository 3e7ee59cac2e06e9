package dev.zenith.proxy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancel keys: each client is told its backend's real process id, so {@code pg_backend_pid()},
 * {@code PQbackendPID}, a {@code NotificationResponse}'s pid and {@code pg_terminate_backend} all name
 * the same process, and a secret of the proxy's own, so a client never learns the compute's key. Every
 * compute runs on this host, so live backends' pids are unique across them and route a
 * {@code CancelRequest}; the secret must match for it to be forwarded. Protocol 3.2 (PostgreSQL 18) keys
 * are variable length; the proxy's secret has the length of the compute's.
 *
 * <p>Thread-safety: lock-free; the keys given out are a concurrent map by pid, each entry immutable.
 */
final class CancelKeys {

    /** Where a backend runs, and the key its compute gave it. */
    record Target(Path socket, int pid, byte[] key) {
    }

    /** What the client is told: the backend's pid and the proxy's secret for it. */
    record Issued(int pid, byte[] key) {

        /** The {@code BackendKeyData} message that tells it. */
        Wire.Message backendKeyData() {
            return new Wire.Message('K', ByteBuffer.allocate(4 + key.length).putInt(pid).put(key).array());
        }
    }

    private record Entry(byte[] secret, Target target) {
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<Integer, Entry> byPid = new ConcurrentHashMap<>();

    Issued issue(Target target) {
        byte[] secret = new byte[target.key().length];
        random.nextBytes(secret);
        byPid.put(target.pid(), new Entry(secret, target));
        return new Issued(target.pid(), secret);
    }

    /** Forgets a session's key at its end, unless a newer backend of the same pid has taken its place. */
    void forget(Issued issued) {
        byPid.computeIfPresent(issued.pid(), (pid, entry) -> entry.secret() == issued.key() ? null : entry);
    }

    /** Forwards a cancel to the compute; unknown pids and wrong secrets are ignored, as Postgres ignores them. */
    void cancel(int pid, byte[] key) throws IOException {
        Entry entry = byPid.get(pid);
        if (entry == null || !MessageDigest.isEqual(entry.secret(), key)) {
            return;
        }
        Target target = entry.target();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(target.socket()));
            ByteBuffer packet = ByteBuffer.allocate(12 + target.key().length)
                    .putInt(12 + target.key().length).putInt(Wire.CANCEL_REQUEST).putInt(target.pid()).put(target.key()).flip();
            while (packet.hasRemaining()) {
                ch.write(packet);
            }
        }
    }
}
