package dev.zenith.proxy;

import dev.zenith.compute.ComputeLeases;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A Postgres session inside a WebSocket, as Neon's driver opens it for {@code Pool} and {@code Client}.
 * Its startup phase is the proxy's, as at Neon: the startup message, then a cleartext password (which the
 * driver sends without waiting, {@code pipelineConnect}), with which the proxy logs in to the branch's
 * compute ({@link ComputeSession}); the client then gets AuthenticationOk and the compute's greeting, its
 * backend's real pid with a secret of the proxy's. From there the compute's Unix socket joins the same
 * event loop and bytes pass both ways unparsed, each side reading only while the other can take more.
 *
 * <p>Threads: everything runs on the connection's event loop but the login, which waits on the compute
 * on the blocking pool and comes back to the loop to finish.
 */
final class WebSocketTunnel extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(WebSocketTunnel.class);
    private static final byte[] AUTH_CLEARTEXT = {'R', 0, 0, 0, 8, 0, 0, 0, 3};
    private static final byte[] AUTH_OK = {'R', 0, 0, 0, 8, 0, 0, 0, 0};

    private enum Phase { STARTUP, PASSWORD, LOGIN, RELAY, CLOSED }

    private final ComputeLeases computes;
    private final CancelKeys cancelKeys;
    private final Executor blocking;
    private final Duration startupTimeout;
    /** What the client sent that was not handled yet: its startup, its password, statements sent ahead. */
    private ByteBuf pending = Unpooled.buffer();
    private Phase phase = Phase.STARTUP;
    private StartupMessage startup;
    private Channel compute;
    private ComputeLeases.Lease lease;
    private CancelKeys.Issued issued;

    WebSocketTunnel(ComputeLeases computes, CancelKeys cancelKeys, Executor blocking, Duration startupTimeout) {
        this.computes = computes;
        this.cancelKeys = cancelKeys;
        this.blocking = blocking;
        this.startupTimeout = startupTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ProxyMetrics.CONNECTIONS.inc();
        ProxyMetrics.ACTIVE.inc();
        ctx.executor().schedule(() -> {
            if (phase == Phase.STARTUP || phase == Phase.PASSWORD) {
                log.debug("no startup and password within {} s on a WebSocket: closing it", startupTimeout.toSeconds());
                ctx.close();
            }
        }, startupTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (frame instanceof CloseWebSocketFrame) {
            frame.release();
            ctx.close();
            return;
        }
        ByteBuf data = frame.content();
        if (phase == Phase.RELAY) {
            ProxyMetrics.TO_COMPUTE.inc(data.readableBytes());
            compute.writeAndFlush(data.retain()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            if (!compute.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
            frame.release();
            return;
        }
        pending.writeBytes(data);
        frame.release();
        try {
            advance(ctx);
        } catch (Wire.ProtocolException e) {
            log.debug("WebSocket client refused in its startup phase: {}", e.getMessage());
            e.reply().ifPresentOrElse(reply -> send(ctx, reply).addListener(ChannelFutureListener.CLOSE), ctx::close);
        }
    }

    /** Moves through the startup phase as far as the bytes received allow. */
    private void advance(ChannelHandlerContext ctx) throws Wire.ProtocolException {
        while (phase == Phase.STARTUP && pending.readableBytes() >= 4) {
            int length = pending.getInt(pending.readerIndex());
            if (length < 8 || length > Wire.MAX_STARTUP_PACKET) {
                throw Wire.ProtocolException.unframed("invalid length of startup packet: " + length);
            }
            if (pending.readableBytes() < length) {
                return;
            }
            pending.skipBytes(4);
            byte[] body = new byte[length - 4];
            pending.readBytes(body);
            switch (StartupPacket.decode(body)) {
                case StartupPacket.SslRequest ssl -> send(ctx, new byte[] {'N'});
                case StartupPacket.GssEncRequest gss -> send(ctx, new byte[] {'N'});
                case StartupPacket.CancelRequest cancel -> {
                    phase = Phase.CLOSED;
                    blocking.execute(() -> {
                        try {
                            cancelKeys.cancel(cancel.pid(), cancel.key());
                        } catch (IOException e) {
                            log.debug("cannot pass a cancel request on: {}", e.getMessage());
                        }
                        ctx.close();
                    });
                    return;
                }
                case StartupPacket.Startup s -> {
                    startup = s.message();
                    phase = Phase.PASSWORD;
                    send(ctx, AUTH_CLEARTEXT);
                }
            }
        }
        if (phase == Phase.PASSWORD && pending.readableBytes() >= 5) {
            int type = pending.getByte(pending.readerIndex());
            int length = pending.getInt(pending.readerIndex() + 1);
            if (type != 'p' || length < 5 || length > 65535 + 4) {
                throw Wire.ProtocolException.refused("08P01", "expected a password message, got message type "
                        + (type >= 32 && type < 127 ? "'" + (char) type + "'" : String.valueOf(type)));
            }
            if (pending.readableBytes() < 1 + length) {
                return;
            }
            pending.skipBytes(5);
            byte[] body = new byte[length - 4];
            pending.readBytes(body);
            int end = 0;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            String password = new String(body, 0, end, java.nio.charset.StandardCharsets.UTF_8);
            phase = Phase.LOGIN;
            blocking.execute(() -> login(ctx, password.isEmpty() ? null : password));
        }
    }

    /** Leases the branch's compute and logs in there, on the blocking pool; finishes on the event loop. */
    private void login(ChannelHandlerContext ctx, String password) {
        ComputeLeases.Lease held;
        StartupMessage.Route route;
        try {
            route = startup.route(Instant.now());
            held = route.lease(computes);
        } catch (StartupMessage.Unroutable e) {
            fail(ctx, e.sqlState(), e.getMessage(), e.hint());
            return;
        } catch (ServerError e) {
            fail(ctx, e.sqlState(), e.getMessage(), e.field('H'));
            return;
        }
        ComputeSession session;
        try {
            session = ComputeSession.open(held.socket(), route.forward(), password);
        } catch (ServerError e) {
            held.close();
            fail(ctx, e.sqlState(), e.getMessage(), e.field('H'));
            return;
        } catch (IOException e) {
            held.close();
            fail(ctx, "58000", "cannot reach the compute " + held.compute() + ": " + e.getMessage(),
                    "see the compute's log with zenith pg list and .zenith/logs");
            return;
        }
        ctx.executor().execute(() -> join(ctx, held, session));
    }

    /** On the event loop: greets the client as the compute greeted the proxy, then joins the two sockets. */
    private void join(ChannelHandlerContext ctx, ComputeLeases.Lease held, ComputeSession session) {
        if (!ctx.channel().isActive()) {
            session.close();
            held.close();
            return;
        }
        lease = held;
        ByteBuf greeting = Unpooled.buffer();
        greeting.writeBytes(AUTH_OK);
        for (Wire.Message m : session.greeting()) {
            Wire.Message shown = m;
            if (m.type() == 'K') {
                issued = cancelKeys.issue(new CancelKeys.Target(held.socket(), session.pid(), session.key()));
                shown = issued.backendKeyData();
            }
            greeting.writeBytes(shown.encode());
        }
        greeting.writeBytes(new Wire.Message('Z', new byte[] {(byte) session.transactionStatus()}).encode());
        ctx.writeAndFlush(new BinaryWebSocketFrame(greeting));
        try {
            compute = new NioDomainSocketChannel(session.takeChannel());
        } catch (IOException e) {
            session.close();
            ctx.close();
            return;
        }
        compute.pipeline().addLast(new ComputeSide(ctx.channel()));
        ctx.channel().eventLoop().register(compute).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("cannot relay a WebSocket session: {}", f.cause().getMessage());
                ctx.close();
                return;
            }
            phase = Phase.RELAY;
            if (pending.isReadable()) {
                ProxyMetrics.TO_COMPUTE.inc(pending.readableBytes());
                compute.writeAndFlush(pending);
            } else {
                pending.release();
            }
            pending = Unpooled.EMPTY_BUFFER;
        });
    }

    private void fail(ChannelHandlerContext ctx, String sqlState, String message, String hint) {
        ctx.executor().execute(() -> send(ctx, Wire.fatal(sqlState, message, hint)).addListener(ChannelFutureListener.CLOSE));
    }

    private static io.netty.channel.ChannelFuture send(ChannelHandlerContext ctx, byte[] bytes) {
        return ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (compute != null) {
            compute.config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.CLOSED;
        if (compute != null) {
            compute.close();
        }
        if (pending.refCnt() > 0 && pending != Unpooled.EMPTY_BUFFER) {
            pending.release();
        }
        if (issued != null) {
            cancelKeys.forget(issued);
        }
        if (lease != null) {
            lease.close();
        }
        ProxyMetrics.ACTIVE.dec();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("WebSocket session ended: {}", cause.getMessage());
        ctx.close();
    }

    /** The compute's side of a relayed session: its bytes go to the WebSocket as binary frames. */
    private static final class ComputeSide extends ChannelInboundHandlerAdapter {
        private final Channel client;

        ComputeSide(Channel client) {
            this.client = client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data = (ByteBuf) msg;
            ProxyMetrics.TO_CLIENT.inc(data.readableBytes());
            client.writeAndFlush(new BinaryWebSocketFrame(data)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            if (!client.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            client.config().setAutoRead(ctx.channel().isWritable());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (client.isActive()) {
                client.writeAndFlush(new CloseWebSocketFrame()).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
