package dev.zenith.api;

import dev.zenith.compute.DiskUse;
import dev.zenith.RepositoryConfig;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.zenith.BranchName;
import dev.zenith.StorageFault;
import dev.zenith.BranchPoint;
import dev.zenith.TagName;
import dev.zenith.Json;
import dev.zenith.PointInTime;
import dev.zenith.ZenithException;
import dev.zenith.api.model.ApiError;
import dev.zenith.api.model.ComputeState;
import dev.zenith.api.model.ComputeStatus;
import dev.zenith.api.model.ConsoleState;
import dev.zenith.api.model.DaemonStatus;
import dev.zenith.api.model.Requests;
import dev.zenith.compute.BranchOperations;
import dev.zenith.compute.Computes;
import dev.zenith.compute.StopMode;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The management API: JSON over HTTP on 127.0.0.1, one virtual thread per request. The JDK's own
 * HTTP server is enough for a local control plane with a handful of callers. Documented in docs/API.md.
 */
public final class ApiServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final long MAX_DRAINED = 16L << 20;
    private static final Pattern COMPUTE_ACTION = Pattern.compile("/v1/computes/([^/]+)/(start|stop)");
    private static final Pattern REMOTE_ACTION = Pattern.compile("/v1/remotes/([^/]+)/(push|pull)");
    private static final Pattern BRANCH = Pattern.compile("/v1/branches/([^/]+)");
    private static final Pattern TAG = Pattern.compile("/v1/tags/([^/]+)");
    private static final Pattern BRANCH_ACTION = Pattern.compile("/v1/branches/([^/]+)/(rename|reset|retention|expire|protect|unprotect)");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final DaemonFacts daemon;
    private final Computes computes;
    private final Runnable shutdown;
    private final EventFeed feed;

    public ApiServer(InetSocketAddress address, DaemonFacts daemon, Computes computes, Runnable shutdown) {
        this.daemon = daemon;
        this.computes = computes;
        this.shutdown = shutdown;
        try {
            this.server = HttpServer.create(address, 64);
        } catch (BindException e) {
            throw ZenithException.conflict("port " + address.getPort() + " is in use, so the API cannot listen on "
                    + address.getHostString() + ":" + address.getPort(),
                    "stop the program using it, or set apiPort in " + daemon.configFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address, e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        feed = new EventFeed(this::consoleState, Duration.ofMillis(300));
    }

    public void start() {
        server.start();
    }

    @Override
    public void close() {
        feed.close();
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            checkCaller(exchange);
            if (serveStream(exchange)) {
                return;
            }
            Object result = route(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), exchange);
            respond(exchange, exchange.getRequestMethod().equals("POST") && result instanceof Created ? 201 : 200,
                    result instanceof Created c ? c.body() : result);
        } catch (ZenithException | UncheckedIOException failure) {
            ZenithException e = failure instanceof UncheckedIOException io ? StorageFault.toError(io) : (ZenithException) failure;
            int status = switch (e.kind()) {
                case BAD_REQUEST -> 400;
                case NOT_FOUND -> 404;
                case CONFLICT -> 409;
                case LIMIT -> 503;
                case FAILED -> 500;
            };
            if (status == 500) {
                log.error("{} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.getMessage(), e);
            }
            respond(exchange, status, new ApiError(e.getMessage(), e.hint()));
        } catch (ForbiddenCaller e) {
            log.warn("refused {} {}: {}", exchange.getRequestMethod(), BranchName.printable(exchange.getRequestURI().toString()),
                    e.getMessage());
            respond(exchange, 403, new ApiError(e.getMessage(), "call the API from the command line or from the console on "
                    + "http://127.0.0.1:" + port()));
        } catch (IllegalArgumentException | JsonProcessingException e) {
            respond(exchange, 400, new ApiError(e.getMessage() == null ? "bad request" : firstLine(e.getMessage()), null));
        } catch (RuntimeException e) {
            log.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            respond(exchange, 500, new ApiError("internal error: " + e.getMessage(),
                    "see " + daemon.logFile()));
        } finally {
            exchange.close();
        }
    }

    private record Created(Object body) {
    }

    private static final class ForbiddenCaller extends Exception {
        ForbiddenCaller(String message) {
            super(message, null, false, false);
        }
    }

    private int port() {
        return server.getAddress().getPort();
    }

    /**
     * A web page the user visits can make their browser send requests to 127.0.0.1, and a DNS name
     * rebound to 127.0.0.1 makes them look same-origin to the browser. Requests naming another host,
     * or coming from a page of another origin, are refused before anything is read or changed.
     */
    private void checkCaller(HttpExchange exchange) throws ForbiddenCaller {
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (host == null || !isLocalAuthority(host)) {
            throw new ForbiddenCaller("Host header " + (host == null ? "missing" : "\"" + BranchName.printable(host) + "\"")
                    + " is not this API's address: only 127.0.0.1, localhost and [::1] are served");
        }
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin != null && !(origin.startsWith("http://") && isLocalAuthority(origin.substring("http://".length())))) {
            throw new ForbiddenCaller("requests from pages of other origins are refused (Origin \"" + BranchName.printable(origin) + "\")");
        }
        if ("cross-site".equals(exchange.getRequestHeaders().getFirst("Sec-Fetch-Site"))) {
            throw new ForbiddenCaller("cross-site browser requests are refused");
        }
    }

    private boolean isLocalAuthority(String authority) {
        String port = ":" + port();
        return authority.equals("127.0.0.1" + port) || authority.equals("localhost" + port) || authority.equals("[::1]" + port);
    }

    /**
     * The answers that are not JSON: the console's files, the event stream and the metrics. True when
     * the exchange was one of them and has been answered.
     */
    private boolean serveStream(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return false;
        }
        if (path.equals("/v1/events")) {
            streamEvents(exchange);
            return true;
        }
        if (path.equals("/metrics")) {
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
            writer.write(text, PrometheusRegistry.defaultRegistry.scrape());
            exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
            exchange.sendResponseHeaders(200, text.size());
            exchange.getResponseBody().write(text.toByteArray());
            return true;
        }
        return ConsoleAssets.serve(exchange, path);
    }

    /** Server-sent events: the console state now, then each change; a comment every 15 s keeps proxies and browsers from timing out. */
    private void streamEvents(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        feed.subscribe();
        try {
            out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            long seen = 0;
            while (!Thread.currentThread().isInterrupted() && !feed.isClosed()) {
                EventFeed.Published next = feed.next(seen, Duration.ofSeconds(15));
                String event = next == null ? ": keep-alive\n\n" : "event: state\ndata: " + next.json() + "\n\n";
                out.write(event.getBytes(StandardCharsets.UTF_8));
                out.flush();
                seen = next == null ? seen : next.version();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException browserWentAway) {
            log.debug("event stream ended: {}", browserWentAway.getMessage());
        } finally {
            feed.unsubscribe();
        }
    }

    private Object route(String method, String path, HttpExchange exchange) throws IOException {
        Matcher m;
        switch (method + " " + path) {
            case "GET /v1/status":
                return status();
            case "GET /v1/branches":
                return computes.branches().list(computes.list(), DiskUse.NOW);
            case "GET /v1/operations":
                return computes.operations();
            case "POST /v1/branches": {
                Requests.CreateBranch req = body(exchange, Requests.CreateBranch.class);
                BranchName parent = req.parent() == null ? BranchName.MAIN : BranchName.of(req.parent());
                PointInTime at = req.at() == null ? null : PointInTime.parse(req.at(), java.time.Instant.now());
                return new Created(computes.branches().create(BranchName.of(req.name()), parent, at, req.retention(),
                        req.expires()));
            }
            case "GET /v1/tags":
                return computes.tags().list();
            case "POST /v1/tags": {
                Requests.CreateTag req = body(exchange, Requests.CreateTag.class);
                PointInTime at = req.at() == null ? null : PointInTime.parse(req.at(), java.time.Instant.now());
                return new Created(computes.tags().create(TagName.of(req.name()), BranchName.of(req.branch()), at));
            }
            case "POST /v1/diff": {
                Requests.Diff req = body(exchange, Requests.Diff.class);
                Instant now = Instant.now();
                return computes.diff(BranchPoint.parse(req.from(), now), BranchPoint.parse(req.to(), now));
            }
            case "GET /v1/computes":
                return computes.list();
            case "POST /v1/computes": {
                Requests.CreateCompute req = body(exchange, Requests.CreateCompute.class);
                return new Created(computes.create(BranchName.of(req.branch()), req.name(), req.port(), req.idleTimeout()));
            }
            case "POST /v1/remotes/state":
                return computes.sync().states(body(exchange, Requests.Transfer.class).credentials());
            case "POST /v1/gc":
                return computes.collectGarbage();
            case "POST /v1/shutdown":
                Thread.ofVirtual().start(shutdown);
                return Map.of("status", "stopping");
            default:
                break;
        }
        if (method.equals("GET") && (m = BRANCH.matcher(path)).matches()) {
            BranchName name = BranchName.of(m.group(1));
            return computes.branches().list(computes.list(), DiskUse.NOW).stream().filter(b -> b.name().equals(name)).findFirst()
                    .orElseThrow(() -> ZenithException.notFound("branch \"" + name + "\" does not exist",
                            "zenith branch " + name + " main"));
        }
        if (method.equals("DELETE") && (m = TAG.matcher(path)).matches()) {
            return computes.tags().delete(TagName.of(m.group(1)));
        }
        if (method.equals("DELETE") && (m = BRANCH.matcher(path)).matches()) {
            return computes.branches().delete(BranchName.of(m.group(1)));
        }
        if (method.equals("POST") && (m = BRANCH_ACTION.matcher(path)).matches()) {
            BranchName name = BranchName.of(m.group(1));
            if (m.group(2).equals("retention")) {
                String window = body(exchange, Requests.SetRetention.class).retention();
                computes.branches().setRetention(name, window);
                return Map.of("name", name.value(), "retention", window == null ? "default" : window);
            }
            if (m.group(2).equals("expire")) {
                Instant at = computes.branches().expire(name, body(exchange, Requests.ExpireBranch.class).expires());
                return Map.of("name", name.value(), "expiresAt", at == null ? "never" : at.toString());
            }
            if (m.group(2).equals("protect") || m.group(2).equals("unprotect")) {
                computes.branches().protect(name, m.group(2).equals("protect")
                        ? BranchOperations.Protection.PROTECTED : BranchOperations.Protection.UNPROTECTED);
                return Map.of("name", name.value(), "protected", m.group(2).equals("protect"));
            }
            if (m.group(2).equals("rename")) {
                BranchName to = BranchName.of(body(exchange, Requests.RenameBranch.class).to());
                computes.branches().rename(name, to);
                return Map.of("name", to.value(), "from", name.value());
            }
            Requests.ResetBranch req = body(exchange, Requests.ResetBranch.class);
            return computes.branches().reset(name, req.backup() == null || req.backup()
                    ? BranchOperations.Backup.KEEP : BranchOperations.Backup.DISCARD,
                    Optional.ofNullable(req.to()).map(TagName::of));
        }
        if (method.equals("POST") && (m = REMOTE_ACTION.matcher(path)).matches()) {
            Requests.Transfer req = body(exchange, Requests.Transfer.class);
            List<BranchName> names = req.branches() == null ? List.of() : req.branches().stream().map(BranchName::of).toList();
            return m.group(2).equals("push") ? computes.sync().push(m.group(1), names, req.credentials())
                    : computes.sync().pull(m.group(1), names, req.credentials());
        }
        if (method.equals("POST") && (m = COMPUTE_ACTION.matcher(path)).matches()) {
            if (m.group(2).equals("start")) {
                Requests.StartCompute req = body(exchange, Requests.StartCompute.class);
                if (req.at() != null) {
                    return computes.startReadOnly(BranchName.of(m.group(1)), PointInTime.parse(req.at(), java.time.Instant.now()));
                }
                return computes.start(m.group(1), req.idleTimeout());
            }
            Requests.StopCompute req = body(exchange, Requests.StopCompute.class);
            boolean destroy = req != null && Boolean.TRUE.equals(req.destroy());
            boolean suspend = req != null && Boolean.TRUE.equals(req.suspend());
            return computes.stop(m.group(1), destroy ? StopMode.DESTROY : suspend ? StopMode.SUSPEND : StopMode.STOP);
        }
        throw ZenithException.notFound("no such API endpoint: " + method + " " + BranchName.printable(path),
                "see docs/API.md");
    }

    private DaemonStatus status() {
        RepositoryConfig config = daemon.config();
        return new DaemonStatus(ProcessHandle.current().pid(), daemon.repository().toString(), "127.0.0.1:" + config.apiPort(),
                daemon.proxy(), config.proxyPort(), daemon.postgresBin().toString(), daemon.postgresVersion(), daemon.osUser(),
                config.superuser(), daemon.idleChecks().getAsLong(),
                computes.list().stream().filter(s -> s.state() == ComputeState.RUNNING).toList());
    }

    /** Asks each running compute for its state once: the branches show the same answers. */
    private ConsoleState consoleState() {
        List<ComputeStatus> nodes = computes.list();
        return new ConsoleState(computes.branches().list(nodes, DiskUse.RECENT), nodes, computes.operations(),
                daemon.config().auth(), daemon.config().superuser(), computes.sync().knownStates(), computes.tags().list());
    }

    private static <T> T body(HttpExchange exchange, Class<T> type) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                // read on (up to a bound) so the client gets the answer, not a reset for unread bytes
                String announced = exchange.getRequestHeaders().getFirst("Content-Length");
                long rest = announced == null ? 0 : Math.max(parseLength(announced) - bytes.length, 0);
                try {
                    in.skipNBytes(Math.min(rest, MAX_DRAINED));
                } catch (IOException stoppedSending) {
                    // the answer below goes out all the same
                }
                throw ZenithException.badRequest("request body over " + MAX_BODY + " bytes");
            }
            if (bytes.length == 0) {
                return type == Requests.StopCompute.class ? null : Json.MAPPER.readValue("{}", type);
            }
            T value = Json.MAPPER.readValue(bytes, type);
            if (value == null) {
                throw ZenithException.badRequest("the request body must be a JSON object, not null");
            }
            return value;
        }
    }

    private static void respond(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static long parseLength(String header) {
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
