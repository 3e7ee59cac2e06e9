package dev.zenith.proxy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancel keys: each client gets a process id and secret key of the proxy's own, mapped to the
 * compute's real ones, so a {@code CancelRequest} reaches the right backend and a client never learns
 * another's key. Protocol 3.2 (PostgreSQL 18) keys are variable length; the proxy's key has the
 * length of the compute's.
 *
 * <p>Thread-safety: lock-free; the keys given out are a concurrent map, each entry immutable.
 */
final class CancelKeys {

    record Target(Path socket, int pid, byte[] key) {
    }

    record Issued(int pid, byte[] key) {
        String id() {
            return pid + ":" + HexFormat.of().formatHex(key);
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Target> targets = new ConcurrentHashMap<>();

    Issued issue(Target target) {
        while (true) {
            byte[] key = new byte[target.key().length];
            random.nextBytes(key);
            Issued issued = new Issued(random.nextInt() & 0x7fffffff, key);
            if (targets.putIfAbsent(issued.id(), target) == null) {
                return issued;
            }
        }
    }

    void forget(Issued issued) {
        targets.remove(issued.id());
    }

    /** Forwards a cancel to the compute; unknown keys are ignored, as Postgres ignores them. */
    void cancel(int pid, byte[] key) throws IOException {
        Target target = targets.get(new Issued(pid, key).id());
        if (target == null) {
            return;
        }
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
