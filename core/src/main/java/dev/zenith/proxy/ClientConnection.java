package dev.zenith.proxy;

import dev.zenith.compute.ComputeLeases;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client of the proxy: the startup phase (SSL/GSS refusals, cancel requests, the startup message
 * and its branch), a lease on the branch's compute, then plain byte relaying. After the compute's
 * {@code ReadyForQuery} nothing is parsed any more: plain sessions move to the {@link RelayLoop}, TLS
 * ones are copied by a thread per direction.
 *
 * <p>Threads: the connection's own thread does everything but one thing: the watchdog thread closes the
 * client if no startup message came in time. So {@code client}, replaced when TLS starts, is volatile, and
 * {@code closed} makes the close happen once, whoever gets there first.
 */
final class ClientConnection implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
    private static final int RELAY_BUFFER = 64 * 1024;
    /** Postgres's own limit for a password or SASL message (PG_MAX_AUTH_TOKEN_LENGTH is 65535). */
    private static final int MAX_AUTH_MESSAGE = 65535 + 4;
    /**
     * What the compute may send before ReadyForQuery: authentication requests, parameter statuses, notices.
     * Postgres itself allows a client's messages up to 1 GB (PQ_LARGE_MESSAGE_LIMIT); these are small.
     */
    private static final int MAX_SERVER_MESSAGE = 1 << 30;
    /** The first byte of a TLS handshake record: a ClientHello of direct TLS. */
    private static final int TLS_HANDSHAKE = 0x16;
    private static final Thread.Builder PUMPS = Thread.ofPlatform().daemon().stackSize(256 * 1024).name("relay-", 0);

    private volatile Endpoint client;
    private final javax.net.ssl.SSLContext tls;
    private final ComputeLeases computes;
    private final CancelKeys cancelKeys;
    private final RelayLoop relayLoop;
    private final HttpFrontDoor http;
    private final Duration startupTimeout;
    /** Set once the socket belongs to someone else (HTTP) or is closed, so it is closed at most once and only by its owner. */
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The cancel key given to the client for its backend, forgotten when the session ends. */
    private CancelKeys.Issued issued;
    private volatile boolean startupReceived;

    ClientConnection(Endpoint client, javax.net.ssl.SSLContext tls, ComputeLeases computes, CancelKeys cancelKeys,
                     RelayLoop relayLoop, HttpFrontDoor http, Duration startupTimeout) {
        this.relayLoop = relayLoop;
        this.http = http;
        this.client = client;
        this.tls = tls;
        this.computes = computes;
        this.cancelKeys = cancelKeys;
        this.startupTimeout = startupTimeout;
    }

    @Override
    public void run() {
        ProxyMetrics.CONNECTIONS.inc();
        ProxyMetrics.ACTIVE.inc();
        Thread watchdog = Thread.ofVirtual().start(this::closeIfNoStartup);
        try {
            StartupMessage startup = negotiate();
            startupReceived = true;
            watchdog.interrupt();
            if (startup != null) {
                serve(startup);
            }
        } catch (Wire.ProtocolException e) {
            log.debug("client connection refused in its startup phase: {}", e.getMessage());
            e.reply().ifPresent(this::send);
        } catch (IOException e) {
            log.debug("client connection ended: {}", e.getMessage());
        } finally {
            watchdog.interrupt();
            close();
            ProxyMetrics.ACTIVE.dec();
        }
    }

    /**
     * Reads startup-phase packets until a startup message; null when the client only wanted to cancel, or
     * is an HTTP client handed to the {@link HttpFrontDoor}. A first byte of 0x16 is a TLS ClientHello
     * (direct TLS: Postgres when it names ALPN {@code postgresql}, else https or wss), a capital letter
     * an HTTP method (POST, GET, OPTIONS); a startup packet's length can begin with neither, its first
     * byte being 0 (Postgres allows 10,000 bytes at most).
     */
    private StartupMessage negotiate() throws IOException, Wire.ProtocolException {
        PushbackInputStream first = new PushbackInputStream(client.in(), 1);
        int firstByte = first.read();
        if (firstByte < 0) {
            throw Wire.ProtocolException.unframed("the connection closed before a startup packet arrived");
        }
        DataInputStream in;
        if (firstByte >= 'A' && firstByte <= 'Z' && client.plainChannel() != null && client.canStartTls()
                && closed.compareAndSet(false, true)) {
            http.adopt(client.plainChannel(), new byte[] {(byte) firstByte}, null);
            return null;
        }
        if (firstByte == TLS_HANDSHAKE && tls != null && client.canStartTls()) {
            ClientHello hello = ClientHello.read(new DataInputStream(first));
            if (!hello.offers(Endpoint.ALPN_POSTGRESQL) && closed.compareAndSet(false, true)) {
                http.adopt(client.plainChannel(), hello.record(), tls); // https and wss: Postgres's direct TLS names its ALPN
                return null;
            }
            Endpoint direct = client.startDirectTls(tls, hello.record());
            if (direct == null) {
                throw Wire.ProtocolException.unframed("direct TLS without ALPN \"" + Endpoint.ALPN_POSTGRESQL + "\"");
            }
            client = direct;
            in = new DataInputStream(client.in());
        } else {
            first.unread(firstByte);
            in = new DataInputStream(first);
        }
        while (true) {
            switch (StartupPacket.decode(Wire.readStartupPacket(in))) {
                case StartupPacket.SslRequest ssl -> {
                    boolean accept = tls != null && client.canStartTls();
                    client.out().write(accept ? 'S' : 'N');
                    client.out().flush();
                    if (accept) {
                        client = client.startTls(tls);
                        in = new DataInputStream(client.in());
                    }
                }
                case StartupPacket.GssEncRequest gss -> {
                    client.out().write('N');
                    client.out().flush();
                }
                case StartupPacket.CancelRequest cancel -> {
                    cancelKeys.cancel(cancel.pid(), cancel.key());
                    return null;
                }
                case StartupPacket.Startup startup -> {
                    return startup.message();
                }
            }
        }
    }

    private void serve(StartupMessage startup) throws IOException {
        StartupMessage.Route route;
        try {
            route = startup.route(Instant.now());
        } catch (StartupMessage.Unroutable e) {
            fail(e.sqlState(), e.getMessage(), e.hint());
            return;
        }
        ComputeLeases.Lease lease;
        try {
            lease = route.lease(computes);
        } catch (ServerError e) {
            fail(e.sqlState(), e.getMessage(), e.field('H'));
            return;
        }
        try (lease) {
            relay(lease, route.forward());
        }
    }

    private void relay(ComputeLeases.Lease lease, StartupMessage forward) throws IOException {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(lease.socket()));
        } catch (IOException e) {
            fail("58000", "cannot reach the compute " + lease.compute() + " at " + lease.socket() + ": " + e.getMessage(),
                    "see the compute's log with zenith pg list and .zenith/logs");
            return;
        }
        try (Endpoint server = Endpoint.of(channel, false)) {
            server.out().write(forward.encode());
            server.out().flush();
            if (!relayUntilReady(server, lease)) {
                return;
            }
            if (client.plainChannel() != null) {
                relayLoop.relay(client.plainChannel(), channel).join();
                return;
            }
            // TLS needs blocking streams: this connection's thread carries the compute's direction, a
            // second one the client's (platform threads, see ProxyServer).
            Endpoint tlsClient = client;
            Thread upstream = PUMPS.start(() -> pumpFromClient(tlsClient, server));
            pumpFromCompute(server, tlsClient);
            try {
                upstream.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } finally {
            if (issued != null) {
                cancelKeys.forget(issued);
            }
        }
    }

    /**
     * Passes the compute's authentication and startup messages through, replacing its cancel key with
     * one of the proxy's, until {@code ReadyForQuery}: true then, and the session is handed to the relay.
     * False when the compute closed first (a refusal, its {@code authentication_timeout}, its death): the
     * client, sent whatever the compute said, is closed with it.
     *
     * <p>Both sides are watched: an authentication request that needs an answer (a password, a SCRAM
     * step) has the client's next message carried to the compute by a thread of its own, while this one
     * keeps reading the compute. A client that stalls cannot hold the connection past its backend, and one
     * that leaves closes the compute's side.
     */
    private boolean relayUntilReady(Endpoint server, ComputeLeases.Lease lease) throws IOException {
        DataInputStream fromServer = new DataInputStream(server.in());
        Thread answering = null;
        while (true) {
            Wire.Message message = Wire.readMessage(fromServer, MAX_SERVER_MESSAGE);
            if (message == null) {
                return false;
            }
            if (message.type() == 'K' && message.body().length >= 8) {
                ByteBuffer b = ByteBuffer.wrap(message.body());
                int pid = b.getInt();
                byte[] key = Arrays.copyOfRange(message.body(), 4, message.body().length);
                issued = cancelKeys.issue(new CancelKeys.Target(lease.socket(), pid, key));
                message = issued.backendKeyData();
            }
            OutputStream out = client.out();
            out.write(message.encode());
            int type = message.type();
            if (type == 'Z') {
                out.flush();
                if (answering != null) {
                    join(answering); // it wrote the last answer before the compute could go on
                }
                return true;
            }
            if (type == 'R' || type == 'E') {
                out.flush(); // an authentication request wants its answer; an error ends the session
            }
            if (type == 'R' && message.body().length >= 4 && needsAnswer(ByteBuffer.wrap(message.body()).getInt())) {
                if (answering != null) {
                    join(answering);
                }
                answering = PUMPS.start(() -> carryAnswer(server));
            }
        }
    }

    /** Carries the client's answer to an authentication request to the compute; closes the compute's side when none comes. */
    private void carryAnswer(Endpoint server) {
        try {
            Wire.Message answer = Wire.readMessage(new DataInputStream(client.in()), MAX_AUTH_MESSAGE);
            if (answer != null) {
                server.out().write(answer.encode());
                server.out().flush();
                return;
            }
            log.debug("the client left during authentication");
        } catch (IOException e) {
            log.debug("the client's authentication answer did not arrive: {}", e.getMessage());
        }
        try {
            server.close(); // the backend ends, and the compute's side of this connection with it
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every authentication request but Ok (0) and SASLFinal (12) waits for the client's answer. */
    private static boolean needsAnswer(int authCode) {
        return authCode != 0 && authCode != 12;
    }

    /**
     * The client's direction of a TLS session. Its end is passed on as a half-close, so a result still
     * on its way reaches a client that shut down its sending side; an error (a reset) ends the session.
     */
    private void pumpFromClient(Endpoint from, Endpoint server) {
        try {
            copy(from.in(), server.out(), ProxyMetrics.TO_COMPUTE);
            server.shutdownOutput();
        } catch (IOException e) {
            close(server);
            close();
        }
    }

    /** The compute's direction of a TLS session: a backend never half-closes, so its end ends the session. */
    private void pumpFromCompute(Endpoint server, Endpoint to) {
        try {
            copy(server.in(), to.out(), ProxyMetrics.TO_CLIENT);
        } catch (IOException e) {
            // one side went away: the session is over
        } finally {
            close(server);
            close();
        }
    }

    private static void copy(InputStream from, OutputStream to, CounterDataPoint relayed) throws IOException {
        byte[] buffer = new byte[RELAY_BUFFER];
        int n;
        while ((n = from.read(buffer)) >= 0) {
            to.write(buffer, 0, n);
            to.flush();
            relayed.inc(n);
        }
    }

    private static void close(Endpoint endpoint) {
        try {
            endpoint.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** As Postgres does when its {@code authentication_timeout} passes before a startup packet: closes without a word. */
    private void closeIfNoStartup() {
        try {
            Thread.sleep(startupTimeout);
        } catch (InterruptedException e) {
            return;
        }
        if (!startupReceived) {
            log.debug("no startup message within {} s: closing the connection", startupTimeout.toSeconds());
            close();
        }
    }

    private void fail(String sqlState, String message, String hint) {
        send(Wire.fatal(sqlState, message, hint));
    }

    private void send(byte[] reply) {
        try {
            client.out().write(reply);
            client.out().flush();
        } catch (IOException e) {
            log.debug("cannot answer a client that left: {}", e.getMessage());
        }
    }

    private void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                client.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }
}
