package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Deadline;
import dev.zenith.LogSetup;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.model.DaemonStatus;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

@Command(name = "pageserver", mixinStandardHelpOptions = true,
        description = "Start, stop or check the daemon that serves the repository (API on 127.0.0.1:64000).")
final class PageserverCommand {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration POLL_STEP = Duration.ofMillis(50);
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);

    @Spec
    CommandSpec spec;

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start the pageserver in the background.")
    int start(@Option(names = "--foreground", description = "Run in this process until stopped (logs still go to the repository).")
              boolean foreground,
              @Option(names = "--proxy-port", paramLabel = "PORT",
                      description = "Port of the proxy, kept in config.json from now on (default: proxyPort there, 5432)")
              Integer proxyPort,
              @Option(names = "--api-port", paramLabel = "PORT",
                      description = "Port of the API and console, kept in config.json from now on (default: apiPort there, 64000)")
              Integer apiPort,
              @Option(names = "--tls", description = "Offer TLS on the proxy with a self-signed certificate (sslmode=require works)")
              boolean tls) throws InterruptedException {
        Path root = Main.repoRoot(spec);
        PrintWriter out = spec.commandLine().getOut();
        Offline repository = Offline.open(root);
        OptionalLong running = repository.daemonPid();
        if (running.isPresent()) {
            out.println("pageserver is already running (pid " + running.getAsLong() + ") at '127.0.0.1:" + repository.config().apiPort()
                    + "' in " + Main.display(spec, root));
            out.flush();
            return 0;
        }
        for (Integer port : new Integer[] {proxyPort, apiPort}) {
            if (port != null && (port < 1 || port > 65535)) {
                throw ZenithException.badRequest("invalid " + (port.equals(proxyPort) ? "--proxy-port " : "--api-port ") + port
                        + ": use 1 to 65535");
            }
        }
        RepositoryConfig config = repository.config();
        config.checkExposure();
        RepositoryConfig wanted = config.toBuilder().apiPort(apiPort == null ? config.apiPort() : apiPort)
                .proxyPort(proxyPort == null ? config.proxyPort() : proxyPort).build();
        requireFreePorts(wanted);
        if (proxyPort != null || apiPort != null) {
            repository = repository.keepPorts(wanted.apiPort(), wanted.proxyPort());
        }
        if (foreground) {
            return runForeground(repository, tls, out);
        }
        out.println("Starting pageserver at '127.0.0.1:" + repository.config().apiPort() + "' in " + Main.display(spec, root));
        out.flush();
        spawn(repository, tls);
        out.println("Page server started");
        out.flush();
        return 0;
    }

    /**
     * Refuses to start when a port the daemon needs is taken, naming every such port and what holds it at once,
     * and offering free ones that stay (the daemon's own check at its bind remains for a port taken meanwhile).
     */
    static void requireFreePorts(RepositoryConfig config) {
        List<Ports.Taken> taken = Ports.taken(List.of(
                new Ports.Wanted("the proxy", config.proxyAddress(), config.proxyPort(), "--proxy-port", 5433),
                new Ports.Wanted("the API and console", "127.0.0.1", config.apiPort(), "--api-port", 64001)));
        if (taken.isEmpty()) {
            return;
        }
        List<Integer> chosen = new ArrayList<>();
        StringBuilder fix = new StringBuilder("stop what holds them, or give this repository ports of its own (kept in its config.json): zenith pageserver start");
        for (Ports.Taken t : taken) {
            int free = Ports.freeFrom(t.wanted().address(), t.wanted().suggestFrom(), chosen);
            chosen.add(free);
            fix.append(' ').append(t.wanted().option()).append(' ').append(free);
        }
        throw ZenithException.conflict((taken.size() == 1 ? "port " : "ports ") + taken.stream().map(Ports.Taken::toString)
                .collect(java.util.stream.Collectors.joining("; ")), fix.toString());
    }

    private static int runForeground(Offline repository, boolean tls, PrintWriter out) throws InterruptedException {
        LogSetup.toFile(repository.daemonLog(), (long) repository.config().maxLogMb() << 20);
        // the daemon has no terminal: the commands it runs for clients never draw progress
        System.setProperty("zenith.progress", "never");
        repository.runDaemon(tls, new ServedCommands(repository.root()), () -> {
            out.println("Page server started (pid " + ProcessHandle.current().pid() + ")");
            out.flush();
        });
        return 0;
    }

    /** Starts the daemon as a new JVM in a session of its own, and waits until its API answers. */
    static void spawn(Offline repository, boolean tls) {
        Path root = repository.root();
        Path outFile = repository.logsDir().resolve("pageserver.out");
        List<String> cmd = new ArrayList<>();
        if (System.getProperty("os.name").toLowerCase().contains("linux")) {
            cmd.add("setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        // a small heap that grows on demand: the daemon holds metadata and relays bytes, never whole tables
        // zstd-jni loads native code, which JDK 24+ warns of unless it is allowed
        cmd.addAll(List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmx512m", "-Xss512k", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "--repo", root.toString(), "pageserver", "start", "--foreground"));
        if (tls) {
            cmd.add("--tls");
        }
        Process process;
        try {
            Files.createDirectories(outFile.getParent());
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(outFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw ZenithException.failed("cannot start the pageserver process: " + e.getMessage(), "see " + outFile);
        }
        ApiClient api = ApiClient.forRepository(root);
        Deadline deadline = Deadline.in(START_TIMEOUT);
        while (!deadline.passed()) {
            if (!process.isAlive()) {
                throw ZenithException.failed("the pageserver exited at start: " + lastLine(outFile), "see " + outFile);
            }
            if (api.isUp() && repository.daemonPid().isPresent()) {
                return;
            }
            pause();
        }
        throw ZenithException.failed("the pageserver did not answer within " + START_TIMEOUT.toSeconds() + " s",
                "see " + repository.daemonLog());
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop every compute cleanly, then the pageserver.")
    int stop() {
        Path root = Main.repoRoot(spec);
        PrintWriter out = spec.commandLine().getOut();
        OptionalLong pid = Offline.open(root).daemonPid();
        if (pid.isEmpty()) {
            out.println("pageserver is not running");
            out.flush();
            return 0;
        }
        out.println("Stopping pageserver (pid " + pid.getAsLong() + ") and its computes");
        out.flush();
        try {
            ApiClient.forRepository(root).post("/v1/shutdown", Map.of(), new TypeReference<Map<String, String>>() { });
        } catch (ZenithException e) {
            ProcessHandle.of(pid.getAsLong()).ifPresent(ProcessHandle::destroy);
        }
        Deadline deadline = Deadline.in(STOP_TIMEOUT);
        while (ProcessHandle.of(pid.getAsLong()).map(ProcessHandle::isAlive).orElse(false)) {
            if (deadline.passed()) {
                throw ZenithException.failed("the pageserver (pid " + pid.getAsLong() + ") did not stop within "
                        + STOP_TIMEOUT.toMinutes() + " minutes", "see " + Offline.open(root).daemonLog());
            }
            pause();
        }
        out.println("Page server stopped");
        out.flush();
        return 0;
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "Print the pageserver's log (.zenith/logs/pageserver.log and the older pageserver.log.1 to .3).")
    int logs(@Option(names = {"-f", "--follow"}, description = "Keep printing what is appended, until Ctrl-C.") boolean follow,
             @Option(names = {"-n", "--tail"}, paramLabel = "LINES", description = "Only the last LINES lines (default: all).")
             Integer tail) throws IOException {
        Offline repository = Offline.open(Main.repoRoot(spec));
        return LogTail.run(repository.daemonLog(), tail, follow, spec.commandLine().getOut());
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Say whether the pageserver runs (exit 0) or not (exit 3, as pg_ctl status does).")
    int status(@Option(names = "--json", description = "Print JSON.") boolean json) throws IOException {
        Path root = Main.repoRoot(spec);
        PrintWriter out = spec.commandLine().getOut();
        Offline.open(root);
        DaemonStatus status = ApiClient.runningStatus(root).orElse(null);
        if (status == null) {
            out.println(json ? "{\"running\": false}" : "pageserver is not running");
            out.flush();
            return 3;
        }
        if (json) {
            out.println(dev.zenith.Json.MAPPER.writeValueAsString(status));
        } else {
            out.println("pageserver is running (pid " + status.pid() + ") at '" + status.api() + "' in " + Main.display(spec, root));
        }
        out.flush();
        return 0;
    }

    private static String lastLine(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
        } catch (IOException e) {
            return "(no output)";
        }
    }

    private static void pause() {
        Deadline.pause(POLL_STEP);
    }
}
