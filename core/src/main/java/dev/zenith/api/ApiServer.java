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
import dev.zenith.MaskRules;
import dev.zenith.ZenithException;
import dev.zenith.model.ApiError;
import dev.zenith.model.BranchData;
import dev.zenith.model.ComputeState;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.ConsoleState;
import dev.zenith.model.DaemonStatus;
import dev.zenith.model.Requests;
import dev.zenith.compute.BranchOperations;
import dev.zenith.compute.StopMode;
import dev.zenith.compute.Imports;
import dev.zenith.source.DumpFilter;
import dev.zenith.source.Source;
import java.nio.file.Path;
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

/**
 * The management API: JSON over HTTP on 127.0.0.1, one virtual thread per request. The JDK's own
 * HTTP server is enough for a local control plane with a handful of callers. Documented in docs/API.md.
 */
public final class ApiServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final long MAX_DRAINED = 16L << 20;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final DaemonFacts daemon;
    private final ApiBackend backend;
    private final Runnable shutdown;
    private final EventFeed feed;
    private final Owner owner;
    private final ClientCommands commands;
    private final Routes routes = routes(this);

    /**
     * {@code apiToken}: what every request must carry to prove it comes from the repository's owner;
     * {@code commands}: what runs the commands launchers send to {@code /v1/commands}.
     */
    public ApiServer(InetSocketAddress address, DaemonFacts daemon, ApiBackend backend, Runnable shutdown, String apiToken,
                     ClientCommands commands) {
        this.daemon = daemon;
        this.backend = backend;
        this.commands = commands;
        this.shutdown = shutdown;
        this.owner = new Owner(apiToken);
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

    /** Every route as {@code METHOD /path/{part}}, for the tests that must cover each. */
    public static List<String> endpoints() {
        return routes(null).endpoints();
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
            String path = exchange.getRequestURI().getPath();
            if (path.equals(LOGIN)) {
                logIn(exchange);
                return;
            }
            if (!(path.equals("/metrics") && daemon.config().metricsPublic()) && !owner.proves(exchange)) {
                refuseStranger(exchange, path);
                return;
            }
            if (serveStream(exchange)) {
                return;
            }
            Object result = routes.dispatch(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    new Routes.BodyReader() {
                        @Override
                        public <T> T read(Class<T> type) throws IOException {
                            return body(exchange, type);
                        }

                        @Override
                        public byte[] bytes() throws IOException {
                            return rawBody(exchange);
                        }
                    });
            if (result instanceof JsonLines lines) {
                writeLines(exchange, lines);
                return;
            }
            if (result instanceof ClientCommands.Outcome outcome) {
                respond(exchange, outcome);
                return;
            }
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

    /** An answer of JSON lines written as {@code work} produces them ({@code zenith log}), so the first arrive at once. */
    private record JsonLines(Work work) {
        interface Work {
            void run(java.util.function.Consumer<Object> line);
        }
    }

    /** How many differing rows {@code zenith diff --data} lists per table unless asked for another number. */
    private static final int DEFAULT_ROWS_LISTED = 20;

    /** Lines written in the first moments go out one by one; after that they go out as the buffer fills. */
    private static final int LINES_SENT_AT_ONCE = 100;

    /**
     * Writes {@code lines}. A failure before the first line is answered as any other; after it, the headers
     * are gone, so a last line carries the error. A client that goes away ends the work at its next line.
     */
    private void writeLines(HttpExchange exchange, JsonLines lines) throws IOException {
        int[] written = {0};
        OutputStream out = new java.io.BufferedOutputStream(exchange.getResponseBody(), 64 * 1024);
        java.util.function.Consumer<Object> line = entry -> {
            try {
                if (written[0] == 0) {
                    exchange.getResponseHeaders().set("Content-Type", "application/x-ndjson");
                    exchange.sendResponseHeaders(200, 0);
                }
                out.write(Json.LINE.writeValueAsBytes(entry));
                out.write('\n');
                if (++written[0] <= LINES_SENT_AT_ONCE) {
                    out.flush();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        try {
            lines.work().run(line);
        } catch (ZenithException e) {
            if (written[0] == 0) {
                throw e;
            }
            line.accept(new ApiError(e.getMessage(), e.hint()));
        } catch (UncheckedIOException clientWentAway) {
            log.debug("a JSON lines answer ended: {}", clientWentAway.getMessage());
            return;
        }
        if (written[0] == 0) {
            exchange.sendResponseHeaders(200, 0);
        }
        out.flush();
    }

    /** Where {@code zenith console}'s link leads: a one-time code in, a session cookie out. */
    static final String LOGIN = "/console/login";

    /**
     * Trades the one-time code of {@code zenith console}'s link for a session cookie and sends the browser
     * on to the console, so the code leaves the address bar at once and the history keeps a used one.
     */
    private void logIn(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        String code = query != null && query.startsWith("code=") ? query.substring("code=".length()) : null;
        Optional<String> session = exchange.getRequestMethod().equals("GET") ? owner.redeem(code) : Optional.empty();
        if (session.isEmpty()) {
            log.warn("refused a console login with {} code", code == null ? "no" : "an unknown or used");
            page(exchange, 401, "This link is used, expired or wrong. Run <code>zenith console</code> for a new one.");
            return;
        }
        exchange.getResponseHeaders().add("Set-Cookie", Owner.setCookie(session.get()));
        exchange.getResponseHeaders().set("Location", "/");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(303, -1);
    }

    /**
     * A request that does not prove it comes from the repository's owner: 401 and nothing read or changed.
     * A browser asking for the console gets a page saying how to open it; everyone else the API's JSON.
     */
    private void refuseStranger(HttpExchange exchange, String path) throws IOException {
        log.warn("refused {} {}: no valid API token or console session", exchange.getRequestMethod(), BranchName.printable(path));
        if (path.equals("/") || path.equals("/index.html")) {
            page(exchange, 401, "The console opens for the repository's owner only: run <code>zenith console</code> and follow its link.");
            return;
        }
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"zenith\"");
        respond(exchange, 401, new ApiError("this request does not come from the repository's owner: it carries no valid API token"
                + " (.zenith/" + dev.zenith.storage.Repository.API_TOKEN + ") or console session",
                "use the zenith command as the user who made the repository (an older zenith does not send the token: "
                        + "zenith --version), or open the console with zenith console"));
    }

    private static void page(HttpExchange exchange, int status, String html) throws IOException {
        byte[] body = ("<!doctype html><meta charset=utf-8><title>zenith</title><p>" + html + "</p>").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
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

    /**
     * Every endpoint; docs/API.md describes them. Static, with the server as a parameter, so the table can
     * be listed without a server ({@link #endpoints()}): building it runs no handler.
     */
    private static Routes routes(ApiServer api) {
        return new Routes()
                .add("GET", "/v1/status", r -> api.status())
                .add("GET", "/v1/console", r -> api.consoleState())
                .add("POST", "/v1/console/codes", r -> new Created(Map.of("url", "http://127.0.0.1:" + api.port() + LOGIN + "?code=" + api.owner.newCode())))
                .add("GET", "/v1/branches", r -> api.backend.branches(api.backend.computes(), DiskUse.NOW))
                .add("GET", "/v1/operations", r -> api.backend.operations())
                .add("POST", "/v1/branches", r -> {
                    Requests.CreateBranch req = r.body(Requests.CreateBranch.class);
                    BranchName parent = req.parent() == null ? BranchName.MAIN : BranchName.of(req.parent());
                    PointInTime at = point(req.at(), Instant.now());
                    BranchData data = req.data() == null ? BranchData.HISTORY : req.data();
                    if (data != BranchData.HISTORY && (req.retention() != null || req.expires() != null)) {
                        throw ZenithException.badRequest("a " + (data == BranchData.MASKED ? "masked" : "schema-only")
                                + " branch is a new root and takes no retention or expiry when made",
                                "set them afterwards: zenith branch retention / zenith branch expire");
                    }
                    if ((data == BranchData.MASKED) != (req.mask() != null)) {
                        throw ZenithException.badRequest("mask goes with data MASKED, and MASKED needs mask (the rules)", null);
                    }
                    switch (data) {
                        case SCHEMA_ONLY -> {
                            return new Created(api.backend.createSchemaOnlyBranch(BranchName.of(req.name()), parent, at));
                        }
                        case MASKED -> {
                            return new Created(api.backend.createMaskedBranch(BranchName.of(req.name()), parent, at, maskRules(req.mask())));
                        }
                        case HISTORY -> { }
                    }
                    return new Created(api.backend.createBranch(BranchName.of(req.name()), parent, at, req.retention(),
                            req.expires()));
                })
                .add("GET", "/v1/branches/{name}", r -> api.branch(BranchName.of(r.part(0))))
                .add("DELETE", "/v1/branches/{name}", r -> api.backend.deleteBranch(BranchName.of(r.part(0))))
                .add("POST", "/v1/branches/{name}/rename", r -> {
                    BranchName from = BranchName.of(r.part(0));
                    BranchName to = BranchName.of(r.body(Requests.RenameBranch.class).to());
                    api.backend.renameBranch(from, to);
                    return Map.of("name", to.value(), "from", from.value());
                })
                .add("POST", "/v1/branches/{name}/reset", r -> {
                    Requests.ResetBranch req = r.body(Requests.ResetBranch.class);
                    return api.backend.resetBranch(BranchName.of(r.part(0)), req.backup() == null || req.backup()
                                    ? BranchOperations.Backup.KEEP : BranchOperations.Backup.DISCARD,
                            Optional.ofNullable(req.to()).map(TagName::of));
                })
                .add("POST", "/v1/branches/{name}/retention", r -> {
                    String window = r.body(Requests.SetRetention.class).retention();
                    api.backend.setRetention(BranchName.of(r.part(0)), window);
                    return Map.of("name", r.part(0), "retention", window == null ? "default" : window);
                })
                .add("POST", "/v1/branches/{name}/expire", r -> {
                    Instant at = api.backend.expire(BranchName.of(r.part(0)), r.body(Requests.ExpireBranch.class).expires());
                    return Map.of("name", r.part(0), "expiresAt", at == null ? "never" : at.toString());
                })
                .add("POST", "/v1/branches/{name}/protect", r -> api.protect(r.part(0), BranchOperations.Protection.PROTECTED))
                .add("POST", "/v1/branches/{name}/unprotect", r -> api.protect(r.part(0), BranchOperations.Protection.UNPROTECTED))
                .add("GET", "/v1/tags", r -> api.backend.tags())
                .add("POST", "/v1/tags", r -> {
                    Requests.CreateTag req = r.body(Requests.CreateTag.class);
                    PointInTime at = point(req.at(), Instant.now());
                    return new Created(api.backend.createTag(TagName.of(req.name()), BranchName.of(req.branch()), at));
                })
                .add("DELETE", "/v1/tags/{name}", r -> api.backend.deleteTag(TagName.of(r.part(0))))
                .add("POST", "/v1/log", r -> {
                    Requests.Log req = r.body(Requests.Log.class);
                    Instant now = Instant.now();
                    BranchName branch = BranchName.of(req.branch());
                    PointInTime since = point(req.since(), now);
                    PointInTime until = point(req.until(), now);
                    java.util.Set<String> tables = tableNames(req.tables());
                    return new JsonLines(line -> api.backend.log(branch, since, until, tables, req.limit(), line::accept));
                })
                .add("POST", "/v1/bisect", r -> {
                    Requests.Bisect req = r.body(Requests.Bisect.class);
                    Instant now = Instant.now();
                    BranchName branch = BranchName.of(req.branch());
                    PointInTime good = point(req.good(), now);
                    PointInTime bad = point(req.bad(), now);
                    return new JsonLines(line -> api.backend.bisect(branch, req.query(), good, bad, req.expect(), line::accept));
                })
                .add("POST", "/v1/diff/data", r -> {
                    Requests.DataDiff req = r.body(Requests.DataDiff.class);
                    Instant now = Instant.now();
                    if (req.limit() != null && req.limit() < 0) {
                        throw ZenithException.badRequest("the row limit must be 0 or more, not " + req.limit());
                    }
                    return api.backend.diffData(BranchPoint.parse(req.from(), now), BranchPoint.parse(req.to(), now),
                            tableNames(req.tables()),
                            req.limit() == null ? DEFAULT_ROWS_LISTED : req.limit());
                })
                .add("POST", "/v1/diff", r -> {
                    Requests.Diff req = r.body(Requests.Diff.class);
                    Instant now = Instant.now();
                    return api.backend.diff(BranchPoint.parse(req.from(), now), BranchPoint.parse(req.to(), now));
                })
                .add("GET", "/v1/computes", r -> api.backend.computes())
                .add("POST", "/v1/computes", r -> {
                    Requests.CreateCompute req = r.body(Requests.CreateCompute.class);
                    return new Created(api.backend.createCompute(BranchName.of(req.branch()), req.name(), req.port(), req.idleTimeout()));
                })
                .add("POST", "/v1/computes/{name}/start", r -> {
                    Requests.StartCompute req = r.body(Requests.StartCompute.class);
                    return req.at() == null ? api.backend.startCompute(r.part(0), req.idleTimeout())
                            : api.backend.startReadOnly(BranchName.of(r.part(0)), PointInTime.parse(req.at(), Instant.now()));
                })
                .add("POST", "/v1/computes/{name}/stop", r -> {
                    Requests.StopCompute req = r.body(Requests.StopCompute.class);
                    boolean destroy = req != null && Boolean.TRUE.equals(req.destroy());
                    boolean suspend = req != null && Boolean.TRUE.equals(req.suspend());
                    return api.backend.stopCompute(r.part(0), destroy ? StopMode.DESTROY : suspend ? StopMode.SUSPEND : StopMode.STOP);
                })
                .add("POST", "/v1/remotes/state", r -> api.backend.remoteStates(r.body(Requests.Transfer.class).credentials()))
                .add("POST", "/v1/remotes/{name}/push", r -> {
                    Requests.Transfer req = r.body(Requests.Transfer.class);
                    return api.backend.push(r.part(0), branchNames(req), req.credentials());
                })
                .add("POST", "/v1/remotes/{name}/pull", r -> {
                    Requests.Transfer req = r.body(Requests.Transfer.class);
                    return api.backend.pull(r.part(0), branchNames(req), req.credentials());
                })
                .add("POST", "/v1/gc", r -> api.backend.collectGarbage())
                .add("POST", "/v1/branches/{name}/stop-following", r -> {
                    api.backend.stopFollowing(BranchName.of(r.part(0)));
                    return Map.of("name", r.part(0), "following", false);
                })
                .add("POST", "/v1/imports", r -> new Created(api.backend.importDatabase(importRequest(r.body(Requests.Import.class)))))
                .add("POST", "/v1/commands", r -> api.runForClient(r.bytes()))
                .add("POST", "/v1/shutdown", r -> {
                    Thread.ofVirtual().start(api.shutdown);
                    return Map.of("status", "stopping");
                });
    }

    /** A point a request may name (null: none). */
    private static PointInTime point(String text, Instant now) {
        return text == null ? null : PointInTime.parse(text, now);
    }

    /** Table names a request may list (null: none, meaning all). */
    private static java.util.Set<String> tableNames(List<String> names) {
        return names == null ? java.util.Set.of() : java.util.Set.copyOf(names);
    }

    /** Masking rules as the request carries them (the YAML the user wrote): a malformed one is a bad request. */
    private static MaskRules maskRules(String text) {
        try {
            return MaskRules.parse(text);
        } catch (IllegalArgumentException e) {
            throw ZenithException.badRequest(e.getMessage(), "fix the rules file");
        }
    }

    private Object branch(BranchName name) {
        return backend.branches(backend.computes(), DiskUse.NOW).stream().filter(b -> b.name().equals(name)).findFirst()
                .orElseThrow(() -> ZenithException.notFound("branch \"" + name + "\" does not exist", "zenith branch " + name + " main"));
    }

    private Object protect(String name, BranchOperations.Protection protection) {
        backend.protect(BranchName.of(name), protection);
        return Map.of("name", name, "protected", protection == BranchOperations.Protection.PROTECTED);
    }

    private static Imports.Request importRequest(Requests.Import req) {
        if (req == null) {
            throw ZenithException.badRequest("an import needs a body: {\"source\": \"postgresql://...\"}");
        }
        if (req.pgVersion() != null && !RepositoryConfig.PG_VERSIONS.contains(req.pgVersion())) {
            throw ZenithException.badRequest("--pg-version " + req.pgVersion() + " is not one zenith runs: use one of "
                    + RepositoryConfig.PG_VERSIONS);
        }
        if (req.mask() != null && Boolean.TRUE.equals(req.follow())) {
            throw ZenithException.badRequest("--mask and --follow do not go together: a followed branch is its source's own WAL,"
                    + " which cannot be masked", "import with --follow, then make masked branches of it: zenith branch NAME BRANCH --mask RULES");
        }
        Path cwd = Path.of(req.cwd() == null ? "/" : req.cwd());
        return new Imports.Request(Source.parse(req.source(), cwd), Optional.ofNullable(req.as()).map(BranchName::of),
                Optional.ofNullable(req.pgVersion()), Boolean.TRUE.equals(req.logical()),
                new DumpFilter(req.schemas(), req.tables(), req.excludeTableData(), Boolean.TRUE.equals(req.schemaOnly())),
                Boolean.TRUE.equals(req.follow()) ? Optional.of(new Imports.Follow(Optional.ofNullable(req.slot())))
                        : Optional.empty(),
                Optional.ofNullable(req.mask()).map(ApiServer::maskRules),
                req.environment() == null ? Map.of() : req.environment());
    }

    private static List<BranchName> branchNames(Requests.Transfer req) {
        return req.branches() == null ? List.of() : req.branches().stream().map(BranchName::of).toList();
    }

    private DaemonStatus status() {
        RepositoryConfig config = daemon.config();
        return new DaemonStatus(ProcessHandle.current().pid(), daemon.repository().toString(), "127.0.0.1:" + config.apiPort(),
                daemon.proxy(), config.proxyPort(), daemon.postgresBin().toString(), daemon.postgresVersion(), daemon.osUser(),
                config.superuser(), daemon.idleChecks().getAsLong(),
                backend.computes().stream().filter(s -> s.state() == ComputeState.RUNNING).toList(), backend.spares());
    }

    /** Asks each running compute for its state once: the branches show the same answers. */
    private ConsoleState consoleState() {
        List<ComputeStatus> nodes = backend.computes();
        return new ConsoleState(backend.branches(nodes, DiskUse.RECENT), nodes, backend.operations(),
                daemon.config().auth().text(), daemon.config().superuser(), backend.knownRemoteStates(), backend.tags());
    }

    /**
     * A launcher's command: the client's working directory, the repository it found and the command's words,
     * each ended by a NUL (which no argument can hold), so a shell sends them with printf and no quoting.
     */
    private ClientCommands.Outcome runForClient(byte[] body) {
        List<String> words = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i < body.length; i++) {
            if (body[i] == 0) {
                words.add(new String(body, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (words.size() < 2 || start != body.length) {
            throw ZenithException.badRequest("a command is its working directory, repository and words, each ended by a NUL byte");
        }
        return commands.run(Path.of(words.get(0)), Path.of(words.get(1)), words.subList(2, words.size()));
    }

    /** A command's outcome: what it printed as the body, its exit code and standard error (Base64) in headers. */
    private static void respond(HttpExchange exchange, ClientCommands.Outcome outcome) throws IOException {
        byte[] out = outcome.out().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.getResponseHeaders().set("Zenith-Exit-Code", Integer.toString(outcome.exitCode()));
        if (!outcome.err().isEmpty()) {
            exchange.getResponseHeaders().set("Zenith-Stderr",
                    java.util.Base64.getEncoder().encodeToString(outcome.err().getBytes(StandardCharsets.UTF_8)));
        }
        exchange.sendResponseHeaders(200, out.length == 0 ? -1 : out.length);
        exchange.getResponseBody().write(out);
    }

    private static <T> T body(HttpExchange exchange, Class<T> type) throws IOException {
        byte[] bytes = rawBody(exchange);
        if (bytes.length == 0) {
            return type == Requests.StopCompute.class ? null : Json.MAPPER.readValue("{}", type);
        }
        T value = Json.MAPPER.readValue(bytes, type);
        if (value == null) {
            throw ZenithException.badRequest("the request body must be a JSON object, not null");
        }
        return value;
    }

    private static byte[] rawBody(HttpExchange exchange) throws IOException {
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
            return bytes;
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
