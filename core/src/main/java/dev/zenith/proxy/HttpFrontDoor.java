package dev.zenith.proxy;

import dev.zenith.compute.ComputeLeases;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * HTTP on the proxy's port, for Neon's serverless driver: {@code POST /sql} (SQL over HTTP) and
 * {@code /v2} (Postgres over WebSocket). The proxy's accept loop tells an HTTP request line from a
 * Postgres startup packet by its first byte and hands the socket over here, with the bytes it read.
 * Netty parses HTTP and WebSocket frames on two event-loop threads; everything that waits on a compute
 * (starting it, logging in, a query) runs on the blocking pool, platform threads as in {@link ProxyServer}.
 */
final class HttpFrontDoor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpFrontDoor.class);
    /** Neon's limit on one WebSocket frame's payload (and Postgres's on one message is 1 GB; frames carry parts). */
    private static final int MAX_FRAME = 64 * 1024 * 1024;

    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("http-io", true),
            NioIoHandler.newFactory());
    private final ExecutorService blocking = new ThreadPoolExecutor(0, 512, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
            Thread.ofPlatform().daemon().stackSize(256 * 1024).name("http-sql-", 0).factory());
    private final SessionPool pool;
    private final SqlOverHttp sql;
    private final ComputeLeases computes;
    private final CancelKeys cancelKeys;
    private final OriginPolicy origins;
    private final Duration startupTimeout;

    HttpFrontDoor(ComputeLeases computes, CancelKeys cancelKeys, OriginPolicy origins, Duration startupTimeout) {
        this.computes = computes;
        this.cancelKeys = cancelKeys;
        this.origins = origins;
        this.startupTimeout = startupTimeout;
        this.pool = new SessionPool(Duration.ofSeconds(30));
        this.sql = new SqlOverHttp(computes, pool);
    }

    /**
     * Serves {@code socket} from here on; {@code consumed} are the bytes the proxy read to tell HTTP from
     * Postgres. With {@code tls}, they began a TLS handshake (https, wss) which Netty finishes.
     */
    void adopt(SocketChannel socket, byte[] consumed, SSLContext tls) throws IOException {
        NioSocketChannel channel = new NioSocketChannel(socket);
        channel.pipeline().addLast(new ChannelInitializer<NioSocketChannel>() {
            @Override
            protected void initChannel(NioSocketChannel ch) {
                ch.pipeline().addLast(new Replay(consumed));
                if (tls != null) {
                    SSLEngine engine = tls.createSSLEngine();
                    engine.setUseClientMode(false);
                    SSLParameters parameters = engine.getSSLParameters();
                    parameters.setApplicationProtocols(new String[] {"http/1.1"});
                    engine.setSSLParameters(parameters);
                    ch.pipeline().addLast(new SslHandler(engine));
                }
                ch.pipeline().addLast(new HttpServerCodec());
                ch.pipeline().addLast(new Aggregator());
                ch.pipeline().addLast(new HttpRoutes.OriginCheck(origins));
                ch.pipeline().addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                        .websocketPath("/v2").checkStartsWith(true).maxFramePayloadLength(MAX_FRAME)
                        .handshakeTimeoutMillis(startupTimeout.toMillis()).build()));
                ch.pipeline().addLast(new HttpRoutes(sql, blocking,
                        () -> new WebSocketTunnel(computes, cancelKeys, blocking, startupTimeout), startupTimeout));
            }
        });
        loops.register(channel).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("cannot serve an HTTP client: {}", f.cause().getMessage());
                socket.close();
            }
        });
    }

    /** Hands on the bytes read before Netty took the socket, before anything Netty reads itself. */
    private static final class Replay extends ChannelInboundHandlerAdapter {
        private final byte[] consumed;

        Replay(byte[] consumed) {
            this.consumed = consumed;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.fireChannelActive();
            ctx.fireChannelRead(Unpooled.wrappedBuffer(consumed));
            ctx.fireChannelReadComplete(); // TLS flushes its handshake answer then
            ctx.pipeline().remove(this);
        }
    }

    /**
     * Requests up to Neon's 10 MiB; a larger one is told so in JSON, as every other error. The answer goes
     * out while the client may still be sending: the proxy then stops writing but reads (and drops) the
     * rest until the client closes, since closing with unread bytes would reset the connection and lose
     * the answer.
     */
    private static final class Aggregator extends HttpObjectAggregator {
        Aggregator() {
            super(SqlOverHttp.MAX_REQUEST_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpMessage oversized) {
            FullHttpResponse response = HttpRoutes.json(SqlOverHttp.error(ServerError.of("54000",
                    "the request is larger than " + SqlOverHttp.MAX_REQUEST_BYTES + " bytes", "send fewer or smaller statements"), 413));
            response.headers().set("Connection", "close");
            ctx.writeAndFlush(response).addListener(f -> ((NioSocketChannel) ctx.channel()).shutdownOutput());
        }
    }

    /** Which pages in a browser may call the endpoint: none by default, as for the API. */
    record OriginPolicy(List<String> allowed) {
        boolean allows(String origin) {
            return origin == null || allowed.contains("*") || allowed.contains(origin);
        }

        /** What {@code Access-Control-Allow-Origin} says to an allowed page; null without an Origin. */
        String allowHeader(String origin) {
            return origin == null ? null : allowed.contains("*") ? "*" : origin;
        }
    }

    @Override
    public void close() {
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        blocking.shutdownNow();
        pool.close();
    }
}
