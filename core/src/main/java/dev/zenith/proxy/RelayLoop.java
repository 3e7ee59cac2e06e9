package dev.zenith.proxy;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Relays established sessions between clients and computes on one thread, over non-blocking
 * channels, as PgBouncer does with libevent. Two blocking threads per session cost a context switch
 * per message in each direction; on a 2-core laptop, where the client, the backends and the proxy share
 * the CPU, that showed as lost throughput at 8 and 32 clients (docs/BENCHMARKS.md). One loop reads
 * whatever is ready and writes it straight on, so a busy moment costs one wake-up for many sessions.
 *
 * <p>Each direction has its own buffer. When the receiving side cannot take everything, the loop stops
 * reading the sending side until the rest is written: back pressure reaches the sender through TCP.
 *
 * <p>Threads: sessions reach the loop through {@code arriving}, a concurrent queue, and a selector wake-up;
 * everything else (the selector's keys, each session's buffers) is touched by the loop's thread alone.
 */
final class RelayLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RelayLoop.class);
    private static final int BUFFER = 32 * 1024;

    private final Selector selector;
    private final Queue<Session> arriving = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    RelayLoop() {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for the proxy: " + e.getMessage(), e);
        }
        thread = Thread.ofPlatform().daemon().name("proxy-relay").start(this::loop);
    }

    /**
     * Relays between the two channels until the compute's side ends or either side fails; the future
     * completes then, with both channels closed. The channels must have no reader or writer of their own any more.
     */
    CompletableFuture<Void> relay(SocketChannel client, SocketChannel server) throws IOException {
        client.configureBlocking(false);
        server.configureBlocking(false);
        Session session = new Session(client, server);
        if (closed) {
            session.end();
            return session.ended;
        }
        arriving.add(session);
        selector.wakeup();
        return session.ended;
    }

    private void loop() {
        try {
            while (!closed) {
                selector.select(key -> ((Side) key.attachment()).ready(key));
                Session next;
                while ((next = arriving.poll()) != null) {
                    next.register(selector);
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                log.error("the proxy's relay loop failed: {}", e.getMessage());
            }
        } finally {
            for (SelectionKey key : selector.keys()) {
                ((Side) key.attachment()).session.end();
            }
            Session left;
            while ((left = arriving.poll()) != null) {
                left.end();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join();
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.debug("cannot close the relay selector: {}", e.getMessage());
        }
    }

    /**
     * A client and its compute. The client may half-close (shut down its sending side after a query):
     * the compute is then half-closed too and still sends its answer. A backend never half-closes, so the
     * compute's end, once what it sent is delivered, ends the session; so does an error on either side.
     */
    private static final class Session {
        final Side client;
        final Side server;
        final CompletableFuture<Void> ended = new CompletableFuture<>();

        Session(SocketChannel clientChannel, SocketChannel serverChannel) {
            client = new Side(this, clientChannel, ProxyMetrics.TO_COMPUTE, Side.AtEnd.HALF_CLOSE_PEER);
            server = new Side(this, serverChannel, ProxyMetrics.TO_CLIENT, Side.AtEnd.END_SESSION);
            client.peer = server;
            server.peer = client;
        }

        void register(Selector selector) {
            try {
                client.key = client.channel.register(selector, SelectionKey.OP_READ, client);
                server.key = server.channel.register(selector, SelectionKey.OP_READ, server);
            } catch (IOException e) {
                end();
            }
        }

        void end() {
            client.close();
            server.close();
            ended.complete(null);
        }
    }

    /**
     * One socket of a session. {@code inbound} holds what was read here and not yet written to the peer;
     * while it is not empty, this side is not read and the peer waits for OP_WRITE. Once this side has
     * ended ({@code ended}) and all it sent is written, its end is passed on as {@code atEnd} says.
     */
    private static final class Side {

        /** What the end of this side's stream does once all it sent has reached the peer. */
        enum AtEnd {
            /** The peer's sending side is shut down, its other direction goes on. */
            HALF_CLOSE_PEER,
            /** The session ends. */
            END_SESSION
        }

        final Session session;
        final SocketChannel channel;
        final ByteBuffer inbound = ByteBuffer.allocateDirect(BUFFER);
        /** Counts what this side's bytes add up to once written to the peer. */
        final CounterDataPoint relayed;
        final AtEnd atEnd;
        Side peer;
        SelectionKey key;
        boolean ended;

        Side(Session session, SocketChannel channel, CounterDataPoint relayed, AtEnd atEnd) {
            this.session = session;
            this.channel = channel;
            this.relayed = relayed;
            this.atEnd = atEnd;
        }

        void ready(SelectionKey ready) {
            try {
                if (ready.isWritable()) {
                    peer.flushTo(channel);
                }
                if (ready.isReadable()) {
                    readAndForward();
                }
            } catch (IOException | CancelledKeyException e) {
                session.end();
            }
        }

        private void readAndForward() throws IOException {
            if (channel.read(inbound) < 0) {
                ended = true;
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            }
            if (!flushTo(peer.channel)) {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
                peer.key.interestOps(peer.key.interestOps() | SelectionKey.OP_WRITE);
            }
        }

        /** Writes this side's pending bytes to {@code to}; true when nothing is left and reading resumes. */
        private boolean flushTo(SocketChannel to) throws IOException {
            inbound.flip();
            relayed.inc(to.write(inbound));
            boolean drained = !inbound.hasRemaining();
            inbound.compact();
            if (drained) {
                peer.key.interestOps(peer.key.interestOps() & ~SelectionKey.OP_WRITE);
                if (ended) {
                    passOnEnd();
                } else if ((key.interestOps() & SelectionKey.OP_READ) == 0) {
                    key.interestOps(key.interestOps() | SelectionKey.OP_READ);
                }
            }
            return drained;
        }

        private void passOnEnd() throws IOException {
            switch (atEnd) {
                case HALF_CLOSE_PEER -> peer.channel.shutdownOutput();
                case END_SESSION -> session.end();
            }
        }

        void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the session is over either way
            }
        }
    }
}
