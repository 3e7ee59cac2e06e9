package dev.zenith.proxy;

import dev.zenith.BranchName;
import dev.zenith.PointInTime;
import dev.zenith.ZenithException;
import dev.zenith.compute.ComputeLeases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's startup path and relay against a fake {@link ComputeLeases}, without a daemon or Postgres:
 * refusals as Postgres errors, the branch taken out of what is forwarded, bytes relayed unchanged both
 * ways, the lease held exactly as long as the client, cancel keys routed back, the startup timeout.
 *
 * <p>The compute at the lease's socket is {@link ScriptedCompute}: the relay's contract is bytes after
 * {@code ReadyForQuery}, which a scripted peer checks to the byte; {@code ProxyTest} runs the same paths
 * against real Postgres and real clients.
 */
class ProxyRelayTest {

    @TempDir
    Path dir;

    private final FakeLeases leases = new FakeLeases();
    private ScriptedCompute compute;
    private ProxyServer proxy;
    private int port;

    @BeforeEach
    void start() throws IOException {
        compute = new ScriptedCompute(dir.resolve("compute.sock"));
        leases.socket = compute.socket;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        proxy = new ProxyServer(leases, "127.0.0.1", port, List.of(), Duration.ofSeconds(1), null, List.of());
        proxy.start();
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        compute.close();
    }

    @Test
    void aSessionIsRelayedByteForByteAndItsLeaseLastsAsLongAsTheClient() throws Exception {
        try (Socket client = connect()) {
            DataOutputStream out = new DataOutputStream(client.getOutputStream());
            DataInputStream in = new DataInputStream(client.getInputStream());
            out.write(startup(Map.of("user", "ann", "database", "app", "options", "-c branch=feature -c search_path=x")));
            out.flush();
            List<Character> types = readUntilReady(in, null);
            assertThat(types).containsExactly('R', 'K', 'Z');
            assertThat(leases.leased).containsExactly("feature");
            assertThat(leases.open.get()).isEqualTo(1);
            Map<String, String> forwarded = compute.startups.poll(10, TimeUnit.SECONDS);
            assertThat(forwarded).containsEntry("user", "ann").containsEntry("database", "app")
                    .containsEntry("options", "-c search_path=x").doesNotContainKey("branch");

            byte[] sent = new byte[1 << 20];
            new Random(7).nextBytes(sent);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    out.write(sent);
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] echoed = in.readNBytes(sent.length);
            writer.join(10_000);
            assertThat(Arrays.equals(echoed, sent)).as("1 MiB echoed through the relay unchanged").isTrue();
        }
        awaitTrue(() -> leases.open.get() == 0, "the lease to close when the client left");
        assertThat(leases.closes.get()).isEqualTo(1);
    }

    @Test
    void aClientSeesItsBackendsRealPidAndACancelWithTheProxysSecretReachesTheComputeWithItsKey() throws Exception {
        try (Socket client = connect()) {
            DataOutputStream out = new DataOutputStream(client.getOutputStream());
            out.write(startup(Map.of("user", "ann", "database", "app")));
            out.flush();
            byte[][] key = new byte[1][];
            readUntilReady(new DataInputStream(client.getInputStream()), key);
            assertThat(java.nio.ByteBuffer.wrap(key[0]).getInt()).as("the backend's own pid").isEqualTo(ScriptedCompute.PID);
            assertThat(Arrays.copyOfRange(key[0], 4, key[0].length)).as("the proxy's key, not the compute's")
                    .isNotEqualTo(ScriptedCompute.KEY);
            try (Socket wrong = connect()) {
                DataOutputStream c = new DataOutputStream(wrong.getOutputStream());
                c.writeInt(16);
                c.writeInt(80877102);
                c.writeInt(ScriptedCompute.PID);
                c.write(ScriptedCompute.KEY);
                c.flush();
                assertThat(wrong.getInputStream().read()).as("the proxy closes after a cancel request").isEqualTo(-1);
            }
            try (Socket cancel = connect()) {
                DataOutputStream c = new DataOutputStream(cancel.getOutputStream());
                c.writeInt(8 + key[0].length);
                c.writeInt(80877102);
                c.write(key[0]);
                c.flush();
            }
            byte[] received = compute.cancels.poll(10, TimeUnit.SECONDS);
            assertThat(received).as("the compute's own pid and key").isEqualTo(ScriptedCompute.cancelPacket());
            assertThat(compute.cancels).as("the cancel with the compute's own key (not the proxy's secret) was dropped").isEmpty();
        }
    }

    @Test
    void aRefusedLeaseIsAPostgresErrorWithItsSqlState() throws Exception {
        leases.refusal = ZenithException.notFound("branch \"nosuch\" does not exist", "zenith branch nosuch main");
        try (Socket client = connect()) {
            client.getOutputStream().write(startup(Map.of("user", "ann", "options", "branch=nosuch")));
            String error = readError(new DataInputStream(client.getInputStream()));
            assertThat(error).contains("C3D000", "Mbranch \"nosuch\" does not exist", "Hzenith branch nosuch main");
            assertThat(client.getInputStream().read()).as("then closed").isEqualTo(-1);
        }
        leases.refusal = ZenithException.limit("too many computes running: maxComputes is 1", "stop one");
        try (Socket client = connect()) {
            client.getOutputStream().write(startup(Map.of("user", "ann")));
            assertThat(readError(new DataInputStream(client.getInputStream()))).contains("C53300", "Mtoo many computes");
        }
        assertThat(leases.open.get()).isZero();
    }

    @Test
    void sslIsDeclinedWithoutTlsAndASilentClientIsClosedAtTheStartupTimeout() throws Exception {
        try (Socket client = connect()) {
            DataOutputStream out = new DataOutputStream(client.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            out.flush();
            assertThat(client.getInputStream().read()).isEqualTo('N');
            client.setSoTimeout(30_000);
            assertThat(client.getInputStream().read()).as("closed after the 1 s startup timeout").isEqualTo(-1);
        }
        assertThat(leases.leased).isEmpty();
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static byte[] startup(Map<String, String> parameters) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        b.writeInt(196608);
        for (var e : new LinkedHashMap<>(parameters).entrySet()) {
            b.write((e.getKey() + "\0" + e.getValue() + "\0").getBytes(StandardCharsets.UTF_8));
        }
        b.write(0);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        new DataOutputStream(packet).writeInt(body.size() + 4);
        body.writeTo(packet);
        return packet.toByteArray();
    }

    /** The message types up to ReadyForQuery; the BackendKeyData's body into {@code key[0]} when asked. */
    private static List<Character> readUntilReady(DataInputStream in, byte[][] key) throws IOException {
        List<Character> types = new java.util.ArrayList<>();
        while (true) {
            char type = (char) in.readUnsignedByte();
            byte[] body = in.readNBytes(in.readInt() - 4);
            types.add(type);
            if (type == 'K' && key != null) {
                key[0] = body;
            }
            if (type == 'Z') {
                return types;
            }
        }
    }

    private static String readError(DataInputStream in) throws IOException {
        char type = (char) in.readUnsignedByte();
        assertThat(type).isEqualTo('E');
        return new String(in.readNBytes(in.readInt() - 4), StandardCharsets.UTF_8);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        dev.zenith.Deadline deadline = dev.zenith.Deadline.in(Duration.ofSeconds(30));
        while (!condition.getAsBoolean()) {
            assertThat(deadline.passed()).as("timed out waiting for " + what).isFalse();
            dev.zenith.Deadline.pause(Duration.ofMillis(20));
        }
    }

    /** Leases of one compute's socket, counted; or a refusal, as the daemon makes them. */
    private static final class FakeLeases implements ComputeLeases {
        volatile Path socket;
        volatile ZenithException refusal;
        final List<String> leased = new CopyOnWriteArrayList<>();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public Lease lease(BranchName branch) {
            if (refusal != null) {
                throw refusal;
            }
            leased.add(branch.value());
            open.incrementAndGet();
            return new Lease() {
                private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

                @Override
                public String compute() {
                    return "pg1";
                }

                @Override
                public Path socket() {
                    return socket;
                }

                @Override
                public Parking park() {
                    close();
                    return new Parking() {
                        @Override
                        public java.util.Optional<Lease> resume() {
                            return java.util.Optional.empty();
                        }

                        @Override
                        public void close() {
                        }
                    };
                }

                @Override
                public void close() {
                    if (closed.compareAndSet(false, true)) {
                        open.decrementAndGet();
                        closes.incrementAndGet();
                    }
                }
            };
        }

        @Override
        public Lease leaseReadOnly(BranchName branch, PointInTime at) {
            return lease(branch);
        }
    }

    /**
     * A compute's side of the wire on a Unix socket: reads a startup message and answers
     * AuthenticationOk, BackendKeyData and ReadyForQuery, then echoes every byte; a cancel request is
     * recorded instead.
     */
    private static final class ScriptedCompute implements AutoCloseable {
        static final int PID = 4242;
        static final byte[] KEY = {1, 2, 3, 4};
        final Path socket;
        final BlockingQueue<Map<String, String>> startups = new LinkedBlockingQueue<>();
        final BlockingQueue<byte[]> cancels = new LinkedBlockingQueue<>();
        private final ServerSocketChannel server;

        ScriptedCompute(Path socket) throws IOException {
            this.socket = socket;
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofPlatform().daemon().start(this::accept);
        }

        static byte[] cancelPacket() {
            return java.nio.ByteBuffer.allocate(8 + KEY.length).putInt(80877102).putInt(PID).put(KEY).array();
        }

        private void accept() {
            while (server.isOpen()) {
                try {
                    SocketChannel channel = server.accept();
                    Thread.ofPlatform().daemon().start(() -> serve(channel));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(SocketChannel channel) {
            try (channel) {
                DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
                DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
                byte[] packet = in.readNBytes(in.readInt() - 4);
                if (java.nio.ByteBuffer.wrap(packet).getInt() == 80877102) {
                    cancels.add(packet);
                    return;
                }
                Map<String, String> parameters = new LinkedHashMap<>();
                String[] parts = new String(packet, 4, packet.length - 4, StandardCharsets.UTF_8).split("\0");
                for (int i = 0; i + 1 < parts.length; i += 2) {
                    parameters.put(parts[i], parts[i + 1]);
                }
                startups.add(parameters);
                out.write(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0});
                out.write('K');
                out.writeInt(12);
                out.writeInt(PID);
                out.write(KEY);
                out.write(new byte[] {'Z', 0, 0, 0, 5, 'I'});
                out.flush();
                in.transferTo(out);
            } catch (IOException clientLeft) {
                // the proxy closed its side: the session is over
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
