package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.PidFile;
import dev.zenith.cli.Main;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real zenith repository for a test: its own directory (enterable by the Postgres OS user), free
 * ports, the CLI run in this JVM, and the pageserver as a real background process. {@link #close}
 * kills every process it started, whatever state the test left it in.
 */
public final class Zenith implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    public record Result(int exit, String out, String err) {
        public Result ok() {
            assertThat(exit).as("exit code of a command that should succeed; stderr: %s", err).isZero();
            return this;
        }
    }

    private final Path dir;
    private final Path repo;
    private final int apiPort;
    private final int proxyPort;
    private final int computePortBase;
    private boolean startForClass;
    /** Settings written to config.json between {@code init} and the start, for a per-class repository. */
    private Map<String, Object> classSettings = Map.of();
    /** The directory is the caller's (a mount point): {@link #close} empties it but leaves it. */
    private boolean keepDir;

    private Zenith(Path dir) {
        this.dir = dir;
        this.repo = dir.resolve(".zenith");
        this.apiPort = freePort();
        this.proxyPort = freePort();
        // below Linux's ephemeral ports (32768 and up), where a client's source port could hold a compute's
        this.computePortBase = 20000 + ThreadLocalRandom.current().nextInt(12000);
    }

    /** A repository to be made in {@code dir} (which the Postgres OS user must be able to enter). */
    public static Zenith in(Path dir) {
        Zenith z = new Zenith(dir);
        z.keepDir = true;
        return z;
    }

    /** A fresh directory with no repository yet. */
    public static Zenith empty() {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "zt");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new Zenith(dir);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * For {@code @RegisterExtension static final}: a repository made by {@code zenith init} with the
     * pageserver running for the whole test class, closed after it.
     */
    public static Zenith startedPerClass() {
        Zenith z = empty();
        z.startForClass = true;
        return z;
    }

    /**
     * The per-class repository with these settings in config.json from its start; {@code spareDiskMb} -1 for a
     * class whose tests watch a start copy an image, which a spare would skip.
     */
    public Zenith configuredWith(Map<String, Object> settings) {
        classSettings = Map.copyOf(settings);
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (startForClass) {
            init().ok();
            configure(classSettings);
            cli("pageserver", "start").ok();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    /** A repository made by {@code zenith init}, with the pageserver running. */
    public static Zenith started() {
        Zenith z = empty();
        z.init().ok();
        z.cli("pageserver", "start").ok();
        return z;
    }

    public Result init(String... extra) {
        List<String> args = new ArrayList<>(List.of("init"));
        args.addAll(listenArgs());
        args.addAll(List.of(extra));
        return cli(args.toArray(String[]::new));
    }

    /** This repository's ports and socket directory as {@code init} and {@code clone} take them. */
    public List<String> listenArgs() {
        return List.of("--api-port", Integer.toString(apiPort), "--compute-port-base", Integer.toString(computePortBase),
                "--proxy-port", Integer.toString(proxyPort), "--proxy-socket-dir", dir.toString());
    }

    /** Runs a zenith command in this JVM against this repository. */
    public Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = cli(out, err, args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** Runs a zenith command in this JVM, writing to the caller's writers as it goes (for commands that run on). */
    public int cli(java.io.Writer out, java.io.Writer err, String... args) {
        List<String> all = new ArrayList<>(List.of("--repo", repo.toString()));
        all.addAll(List.of(args));
        CommandLine cmd = Main.commandLine(all.toArray(String[]::new));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(all.toArray(String[]::new));
    }

    /**
     * Runs a zenith command as its own process, as a user's shell would (for commands that hand the
     * terminal to another program, like {@code zenith psql}).
     */
    public Result cliProcess(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--repo", repo.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        return run(pb, Duration.ofSeconds(120));
    }

    /** Runs a program to its end, reading its output and its errors side by side so neither pipe fills up. */
    public static Result run(ProcessBuilder builder, Duration timeout) throws IOException, InterruptedException {
        Process p = builder.start();
        // on a thread of its own: the common pool may be busy with the caller's own racing commands
        var out = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofPlatform().daemon().start(() -> out.complete(readAll(p.getInputStream())));
        String err = readAll(p.getErrorStream());
        if (!p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", builder.command()) + " did not finish in " + timeout.toSeconds() + " s");
        }
        return new Result(p.exitValue(), out.join(), err);
    }

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Changes settings in config.json (the daemon reads them at its next start). */
    public void configure(Map<String, Object> settings) {
        try {
            var config = (com.fasterxml.jackson.databind.node.ObjectNode) dev.zenith.Json.MAPPER.readTree(repo.resolve("config.json").toFile());
            settings.forEach((k, v) -> config.set(k, dev.zenith.Json.MAPPER.valueToTree(v)));
            dev.zenith.Json.MAPPER.writeValue(repo.resolve("config.json").toFile(), config);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * What is in the repository's tmp/ besides the spares made ahead of new branches: staging an operation
     * left, which a failed or interrupted one must not.
     */
    public List<String> leftInTmp() {
        return tmpEntries().stream().map(p -> p.getFileName().toString()).filter(name -> !isSpare(name)).toList();
    }

    private static boolean isSpare(String name) {
        return name.startsWith("spare-") || name.startsWith("standby-spare-");
    }

    private List<Path> tmpEntries() {
        try (var entries = Files.list(repo.resolve("tmp"))) {
            return entries.toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Makes the daemon stop at a named failpoint (see dev.zenith.Failpoints) the next time it gets there. */
    public void armFailpoint(String name) {
        try {
            Files.writeString(repo.resolve(dev.zenith.Failpoints.FILE), name + "\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits until the daemon has stopped at the failpoint, kills it there, and disarms it. */
    public void killDaemonAtFailpoint(String name) {
        awaitFailpoint(name);
        kill9Daemon();
        releaseFailpoints();
    }

    /** Waits until a thread of the daemon has stopped at the failpoint. */
    public void awaitFailpoint(String name) {
        waitFor(Duration.ofSeconds(120), () -> daemonLog().contains("failpoint " + name + " reached"),
                "the daemon to reach failpoint " + name);
    }

    /** Disarms every failpoint: threads waiting at one go on. */
    public void releaseFailpoints() {
        try {
            Files.deleteIfExists(repo.resolve(dev.zenith.Failpoints.FILE));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Asks the daemon's HTTP API; returns the status code and body. */
    public Result api(String method, String path, String body) {
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            var request = authorized(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + apiPort + path))
                    .timeout(Duration.ofSeconds(300)).method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                            : java.net.http.HttpRequest.BodyPublishers.ofString(body))).build();
            var response = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
            return new Result(response.statusCode(), response.body(), "");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted asking " + path);
        }
    }

    /** The repository's API token, which the daemon asks of every request (the tests run as its owner). */
    public String apiToken() {
        return dev.zenith.storage.Repository.apiToken(repo);
    }

    /** {@code request} as the repository's owner sends it: with the API token. */
    public java.net.http.HttpRequest.Builder authorized(java.net.http.HttpRequest.Builder request) {
        return request.header("Authorization", "Bearer " + apiToken());
    }

    /** A link from {@code zenith console} that logs a browser in to the console once. */
    public String consoleLink() {
        return cli("console").ok().out().trim();
    }

    /** The daemon's log so far. */
    public String daemonLog() {
        return readLog(repo.resolve("logs/pageserver.log"));
    }

    /** What Postgres logged for a branch's compute (its log in the repository). */
    public String computeLog(String branchOrNode) {
        String node = compute(branchOrNode).orElseThrow(() -> new AssertionError("no compute for " + branchOrNode)).path("name").asText();
        return readLog(repo.resolve("logs/compute-" + node + ".log"));
    }

    private static String readLog(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * As {@link #waitFor}, for a condition the daemon brings about by itself: a timeout says what its
     * logs end with, since the repository is gone by the time anyone reads the report.
     */
    public void awaitDaemon(Duration timeout, BooleanSupplier condition, String what) {
        try {
            waitFor(timeout, condition, what);
        } catch (AssertionError e) {
            StringBuilder logs = new StringBuilder(e.getMessage());
            try (Stream<Path> files = Files.list(repo.resolve("logs"))) {
                for (Path log : files.sorted().toList()) {
                    List<String> lines = Files.readAllLines(log);
                    logs.append("\n--- ").append(log.getFileName()).append(", its last lines:\n")
                            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
                }
            } catch (IOException | UncheckedIOException ignored) {
                // the report without them
            }
            throw new AssertionError(logs.toString(), e);
        }
    }

    /**
     * Whether a thread of the daemon waits for a lock (not at a failpoint's sleep) with {@code frame} (a class
     * and method, e.g. {@code BranchOperations.delete}) on its stack, read from a dump of all its threads,
     * virtual ones (the API's) included.
     */
    public boolean daemonThreadWaitsIn(String frame) {
        return java.util.Arrays.stream(daemonThreads().split("\n\\s*\n"))
                .anyMatch(t -> t.contains("AbstractQueuedSynchronizer.acquire") && t.contains(frame + "("));
    }

    /** A dump of the daemon's threads, virtual ones (the API's) included. */
    public String daemonThreads() {
        long pid = daemonPid().orElseThrow(() -> new AssertionError("the daemon is not running"));
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Path file = dir.resolve("threads.txt");
        try {
            run(new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.dump_to_file", "-overwrite", file.toString()),
                    Duration.ofSeconds(60)).ok();
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted reading the daemon's threads");
        }
    }

    public Path dir() {
        return dir;
    }

    public Path repo() {
        return repo;
    }

    public int apiPort() {
        return apiPort;
    }

    public int proxyPort() {
        return proxyPort;
    }

    /** A pgjdbc URL through the proxy; {@code options} is sent as given (already URL-encoded). */
    public String proxyUrl(String options) {
        // pgjdbc waits 5 s for the answer to its SSLRequest (sslResponseTimeout); with 500 clients forking 500
        // backends on two cores that answer has taken longer, so every wait here is the connect timeout's
        return "jdbc:postgresql://127.0.0.1:" + proxyPort + "/postgres?user=" + System.getProperty("user.name")
                + "&connectTimeout=60&sslResponseTimeout=60000&socketTimeout=120" + (options == null ? "" : "&options=" + options);
    }

    public Connection connectProxy(String branch) throws SQLException {
        return DriverManager.getConnection(proxyUrl(branch == null ? null : "branch%3D" + branch));
    }

    public Repository repository() {
        return Repository.open(repo);
    }

    /** The port of the compute node serving a branch, starting it (and creating it) if needed. */
    public int start(String branch) {
        cli("pg", "start", branch).ok();
        return port(branch);
    }

    public int port(String branchOrNode) {
        return compute(branchOrNode).orElseThrow(() -> new AssertionError("no compute for " + branchOrNode + " in "
                + computes())).path("port").asInt();
    }

    /** The compute nodes as {@code zenith pg list --json} shows them. */
    public List<JsonNode> computes() {
        try {
            List<JsonNode> nodes = new ArrayList<>();
            Json.MAPPER.readTree(cli("pg", "list", "--json").ok().out()).forEach(nodes::add);
            return nodes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The branches as {@code zenith branch --json} lists them, each name with its timeline id. */
    public Map<String, String> branches() {
        try {
            Map<String, String> branches = new LinkedHashMap<>();
            for (JsonNode b : Json.MAPPER.readTree(cli("branch", "--json").ok().out())) {
                branches.put(b.path("name").asText(), b.path("timelineId").asText());
            }
            return branches;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A compute by its node name, or the read-write compute of a branch. */
    public Optional<JsonNode> compute(String branchOrNode) {
        return computes().stream().filter(n -> n.path("name").asText().equals(branchOrNode)
                || (n.path("branch").asText().equals(branchOrNode) && n.path("readOnlyAt").isNull())).findFirst();
    }

    /** The computes serving a branch (its read-write one and read-only views of its past). */
    public List<JsonNode> computesOf(String branch) {
        return computes().stream().filter(n -> n.path("branch").asText().equals(branch)).toList();
    }

    /** The data directories of the computes serving a branch. */
    public List<Path> dataDirsOf(String branch) {
        return computesOf(branch).stream().map(n -> repo().resolve("pgdatadirs").resolve(n.get("name").asText())).toList();
    }

    /** The first column of the first row {@code sql} answers on a branch, through the proxy. */
    public String queryText(String branch, String sql) throws SQLException {
        try (Connection c = connectProxy(branch); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    public Connection connect(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user="
                + System.getProperty("user.name") + "&connectTimeout=10&socketTimeout=120");
    }

    public long queryLong(int port, String sql) throws SQLException {
        try (Connection c = connect(port); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public void execute(int port, String... sql) throws SQLException {
        try (Connection c = connect(port); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    /** Waits until the compute on {@code port} has archived every WAL file it finished. */
    public void awaitArchived(int port) {
        waitFor(Duration.ofSeconds(60), () -> {
            try {
                return queryLong(port, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == 0;
            } catch (SQLException e) {
                throw new AssertionError(e);
            }
        }, "the archiver to catch up");
    }

    public Optional<Long> daemonPid() {
        return PidFile.liveProcess(repo.resolve("pageserver.pid")).map(ProcessHandle::pid);
    }

    /** The postmaster pid of a compute node's data directory. */
    public Optional<Long> postmasterPid(String node) {
        return pidOf(repo.resolve("pgdatadirs").resolve(node));
    }

    public void kill9Daemon() {
        long pid = daemonPid().orElseThrow();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        waitFor(Duration.ofSeconds(30), () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "daemon to die");
    }

    public void kill9Postmaster(String node) {
        long pid = postmasterPid(node).orElseThrow();
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        h.destroyForcibly();
        waitFor(Duration.ofSeconds(30), () -> !h.isAlive(), "postmaster " + pid + " to die");
    }

    /**
     * Runs {@code sql} on {@code s} in a thread, cancels it with {@code Statement.cancel()} once
     * {@code running} says it runs, and returns the error the query ended with (null when it finished).
     */
    public static SQLException cancelWhileRunning(Statement s, String sql, BooleanSupplier running) throws InterruptedException {
        AtomicReference<SQLException> error = new AtomicReference<>();
        Thread query = Thread.ofPlatform().start(() -> {
            try {
                s.execute(sql);
            } catch (SQLException e) {
                error.set(e);
            }
        });
        waitFor(Duration.ofSeconds(30), running, "the query to run");
        try {
            s.cancel();
        } catch (SQLException e) {
            throw new AssertionError("cancel failed", e);
        }
        query.join(30_000);
        return error.get();
    }

    public static void waitFor(Duration timeout, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    @Override
    public void close() {
        String violations = daemonLog().lines().filter(l -> l.contains(dev.zenith.Locks.VIOLATION))
                .collect(java.util.stream.Collectors.joining("\n"));
        closeProcessesAndFiles();
        if (!violations.isEmpty()) {
            throw new AssertionError("the daemon took its locks in an order that can deadlock:\n" + violations);
        }
    }

    private void closeProcessesAndFiles() {
        daemonPid().flatMap(ProcessHandle::of).ifPresent(h -> {
            h.destroyForcibly();
            waitFor(Duration.ofSeconds(30), () -> !h.isAlive(), "daemon to die");
        });
        Path dataDirs = repo.resolve("pgdatadirs");
        if (Files.isDirectory(dataDirs)) {
            try (Stream<Path> dirs = Files.list(dataDirs)) {
                dirs.forEach(d -> pidOf(d).flatMap(ProcessHandle::of).ifPresent(h -> {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                    waitFor(Duration.ofSeconds(30), () -> !h.isAlive(), "postmaster to die");
                }));
            } catch (IOException ignored) {
                // the directory is removed below either way
            }
        }
        if (!keepDir) {
            FileTrees.deleteTree(dir);
            return;
        }
        try (Stream<Path> left = Files.list(dir)) {
            left.forEach(FileTrees::deleteTree);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Optional<Long> pidOf(Path dataDir) {
        return PidFile.liveProcess(dataDir.resolve("postmaster.pid")).map(ProcessHandle::pid);
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
