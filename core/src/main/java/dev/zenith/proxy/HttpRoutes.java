package dev.zenith.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The HTTP requests of one connection: {@code POST /sql} runs on the blocking pool, one request at a time
 * per connection (reading pauses until the answer is written, so pipelined requests keep their order);
 * {@code OPTIONS} answers a browser's preflight; a finished {@code /v2} handshake hands the connection to
 * a {@link WebSocketTunnel}; anything else is a JSON 404. A connection that brings no whole request within
 * {@code idleTimeout} (the proxy's startup timeout), at first or after an answer, is closed, as a
 * Postgres client that sends no startup packet is: a keep-alive client reconnects, a stray one goes.
 *
 * <p>Threads: Netty calls it on the connection's event loop; the answer is written from the blocking pool,
 * and the idle timer is armed again from the write's completion, back on the event loop.
 */
final class HttpRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpRoutes.class);

    private final SqlOverHttp sql;
    private final Executor blocking;
    private final Supplier<WebSocketTunnel> tunnels;
    private final Duration idleTimeout;
    private ScheduledFuture<?> idle;

    HttpRoutes(SqlOverHttp sql, Executor blocking, Supplier<WebSocketTunnel> tunnels, Duration idleTimeout) {
        this.sql = sql;
        this.blocking = blocking;
        this.tunnels = tunnels;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        awaitRequest(ctx);
    }

    /** Closes the connection unless a whole request arrives within the idle timeout. */
    private void awaitRequest(ChannelHandlerContext ctx) {
        idle = ctx.executor().schedule(() -> {
            log.debug("no HTTP request within {} s: closing the connection", idleTimeout.toSeconds());
            ctx.close();
        }, idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (idle != null) {
            idle.cancel(false);
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            FullHttpResponse refused = error(400, "08P01", "not an HTTP request: " + request.decoderResult().cause().getMessage(),
                    "Postgres clients using direct TLS must name ALPN \"postgresql\"; HTTP clients must send HTTP/1.1");
            refused.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(refused).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        String path = request.uri();
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        if (!path.equals("/sql")) {
            respond(ctx, request, error(404, "42704", "no such endpoint: " + request.method() + " " + path,
                    "Neon's driver uses POST /sql and the WebSocket /v2"));
            return;
        }
        if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, request, error(405, "42601", "/sql takes POST, not " + request.method(), null));
            return;
        }
        byte[] body = new byte[request.content().readableBytes()];
        request.content().readBytes(body);
        FullHttpRequest headersOnly = request.replace(Unpooled.EMPTY_BUFFER);
        ctx.channel().config().setAutoRead(false);
        try {
            blocking.execute(() -> sql.handle(name -> headersOnly.headers().get(name), body,
                    reply -> respond(ctx, headersOnly, json(reply))));
        } catch (RejectedExecutionException e) {
            respond(ctx, headersOnly, error(503, "53300", "the proxy is busy with too many HTTP requests", "try again"));
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            idle.cancel(false);
            ctx.pipeline().replace(this, "tunnel", tunnels.get());
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection ended: {}", cause.toString());
        ctx.close();
    }

    /** Writes the answer, then reads the connection's next request, or closes it when it asked for that. */
    private void respond(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        String allow = ctx.channel().attr(OriginCheck.ALLOW).get();
        if (origin != null && allow != null) {
            response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        }
        ctx.writeAndFlush(response).addListener(keepAlive ? (ChannelFutureListener) f -> {
            awaitRequest(ctx);
            f.channel().config().setAutoRead(true);
            f.channel().read();
        } : ChannelFutureListener.CLOSE);
    }

    private static FullHttpResponse error(int status, String sqlState, String message, String hint) {
        return json(SqlOverHttp.error(ServerError.of(sqlState, message, hint), status));
    }

    static FullHttpResponse json(SqlOverHttp.Reply reply) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()),
                Unpooled.wrappedBuffer(reply.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        reply.headers().forEach((k, v) -> response.headers().set(k, v));
        return response;
    }

    /**
     * Refuses pages of other origins before anything runs: a page in the user's browser could otherwise
     * reach every branch (the driver sends no Origin; a browser always does). Allowed origins, from
     * {@code proxyHttpOrigins} in config.json, get CORS answers, preflight included.
     */
    @ChannelHandler.Sharable
    static final class OriginCheck extends ChannelInboundHandlerAdapter {
        static final io.netty.util.AttributeKey<String> ALLOW = io.netty.util.AttributeKey.valueOf("zenith-allow-origin");
        private final HttpFrontDoor.OriginPolicy policy;

        OriginCheck(HttpFrontDoor.OriginPolicy policy) {
            this.policy = policy;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest request)) {
                ctx.fireChannelRead(msg);
                return;
            }
            String origin = request.headers().get(HttpHeaderNames.ORIGIN);
            if (!policy.allows(origin)) {
                ReferenceCountUtil.release(msg);
                FullHttpResponse refused = error(403, "28000", "requests from pages of other origins are refused (Origin \""
                        + origin + "\")", "allow it in .zenith/config.json: \"proxyHttpOrigins\": [\"" + origin + "\"]");
                refused.headers().set(HttpHeaderNames.CONNECTION, "close");
                ctx.writeAndFlush(refused).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.channel().attr(ALLOW).set(policy.allowHeader(origin));
            if (origin != null && request.method().equals(HttpMethod.OPTIONS)) {
                ReferenceCountUtil.release(msg);
                FullHttpResponse preflight = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
                preflight.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, policy.allowHeader(origin));
                preflight.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS");
                preflight.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Neon-Connection-String, Neon-Raw-Text-Output, "
                        + "Neon-Array-Mode, Neon-Batch-Isolation-Level, Neon-Batch-Read-Only, Neon-Batch-Deferrable, Content-Type, Authorization");
                preflight.headers().set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "86400");
                preflight.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                ctx.writeAndFlush(preflight);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }
}
