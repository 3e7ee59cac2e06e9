package dev.zenith.postgres;

import dev.zenith.PidFile;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs {@code initdb}, {@code postgres} and {@code pg_ctl} as the Postgres OS user, each one's output going to a log file. */
public final class PgCtl {

    private static final String PROMOTE_FILE = "promote";
    private static final Duration SIGNAL_TIMEOUT = Duration.ofSeconds(10);

    private final PgDistributions dists;
    private final OsUser user;

    /** Each data directory is run by the installation of its own major version, from {@code dists}. */
    public PgCtl(PgDistributions dists, OsUser user) {
        this.dists = dists;
        this.user = user;
    }

    /** Runs initdb of {@code dist} into {@code dataDir}. */
    public void initdb(PgDistribution dist, Path dataDir, String superuser, Path log) {
        run(List.of(dist.tool("initdb").toString(), "-D", dataDir.toString(), "-U", superuser,
                "--no-locale", "-E", "UTF8", "--auth=trust", "--no-instructions"), log, Duration.ofMinutes(5),
                "initdb failed");
    }

    /**
     * Starts {@code postgres} itself, in a session of its own so it outlives the daemon, its output
     * appended to the log, and returns at once. {@code pg_ctl start -w} would wait for readiness in
     * 100 ms steps, most of a resume's time; the caller watches the process and the server instead.
     */
    public Process launch(Path dataDir, Path log) {
        return launch(dataDir, log, List.of(), Priority.FOREGROUND);
    }

    /** How a server zenith runs for itself shares the machine with the user's work. */
    public enum Priority {
        /** Someone waits for it: an import, a restore. */
        FOREGROUND,
        /** Housekeeping nobody waits for (a followed branch's image): it yields the CPU to everything else (nice 10). */
        BACKGROUND
    }

    /**
     * As {@link #launch(Path, Path)}, with settings given on the command line ({@code -c name=value}),
     * which win over the configuration files: for a server zenith runs for itself, reachable only
     * through its socket in {@code socketDir}, never archiving, with {@code extra} settings for its work.
     */
    public Process launchPrivately(Path dataDir, Path socketDir, int port, Map<String, String> extra, Priority priority, Path log) {
        List<String> settings = new ArrayList<>(List.of("-c", "listen_addresses=", "-c", "unix_socket_directories=" + socketDir,
                "-c", "port=" + port, "-c", "archive_mode=off", "-c", "hot_standby=on"));
        if (PgDistribution.isLinux()) {
            // a copied data directory is synced before its recovery: one syncfs() of the file system where
            // fsync() file by file took twice as long for a 1 GB copy (docs/BENCHMARKS.md)
            settings.addAll(List.of("-c", "recovery_init_sync_method=syncfs"));
        }
        extra.forEach((name, value) -> settings.addAll(List.of("-c", name + "=" + value)));
        return launch(dataDir, log, settings, priority);
    }

    private Process launch(Path dataDir, Path log, List<String> settings, Priority priority) {
        List<String> cmd = new ArrayList<>();
        if (priority == Priority.BACKGROUND) {
            cmd.addAll(List.of("nice", "-n", "10"));
        }
        if (PgDistribution.isLinux()) {
            cmd.add("setsid");
        }
        List<String> postgres = new ArrayList<>(List.of(dists.forDataDir(dataDir).tool("postgres").toString(), "-D",
                dataDir.toString()));
        postgres.addAll(settings);
        cmd.addAll(user.command(postgres));
        try {
            return processBuilder(cmd, log).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0), e);
        }
    }

    /** Stops the server: fast shutdown, or immediate if that does not finish in time. True when it stopped cleanly. */
    public boolean stop(Path dataDir, Path log, Duration timeout) {
        if (postmasterPid(dataDir).isEmpty()) {
            return false;
        }
        try {
            run(List.of(dists.forDataDir(dataDir).tool("pg_ctl").toString(), "stop", "-w", "-m", "fast",
                    "-t", Long.toString(timeout.toSeconds()), "-D", dataDir.toString()), log, timeout.plusSeconds(30),
                    "Postgres did not stop");
            return true;
        } catch (ZenithException e) {
            run(List.of(dists.forDataDir(dataDir).tool("pg_ctl").toString(), "stop", "-w", "-m", "immediate", "-D", dataDir.toString()),
                    log, Duration.ofSeconds(60), "Postgres did not stop");
            return false;
        }
    }

    /**
     * Stops the server at once, as {@code pg_ctl stop -m immediate} does (SIGQUIT to the postmaster, which
     * ends its children and exits), for a compute whose data nobody needs any more. The signal is sent
     * here rather than by pg_ctl, which notices the exit only on its next 100 ms poll: deleting a test's
     * branch would wait for that every time.
     */
    public void quit(Path dataDir, Path log, Duration timeout) {
        Optional<ProcessHandle> postmaster = postmaster(dataDir);
        if (postmaster.isEmpty()) {
            return;
        }
        exec(List.of("kill", "-QUIT", Long.toString(postmaster.get().pid())), log, timeout, "cannot signal Postgres");
        try {
            postmaster.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            run(List.of(dists.forDataDir(dataDir).tool("pg_ctl").toString(), "stop", "-w", "-m", "immediate", "-D", dataDir.toString()),
                    log, Duration.ofSeconds(60), "Postgres did not stop");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted while Postgres was stopping", "try again");
        }
    }

    /** Makes the postmaster read its configuration files again (SIGHUP, as {@code pg_ctl reload}). */
    public void reload(ProcessHandle postmaster, Path log) {
        exec(List.of("kill", "-HUP", Long.toString(postmaster.pid())), log, SIGNAL_TIMEOUT, "cannot signal Postgres");
    }

    /**
     * Asks a standby to promote as {@code pg_ctl promote} does: a {@code promote} file in its data directory,
     * then SIGUSR1 to its postmaster, which hands the request to the startup process. Done here rather than
     * by pg_ctl (two more processes) or {@code pg_promote()} (a connection to open first, while a start waits).
     */
    public void promote(Path dataDir, ProcessHandle postmaster, Path log) {
        try {
            Files.writeString(dataDir.resolve(PROMOTE_FILE), "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot ask Postgres in " + dataDir + " to promote", e);
        }
        exec(List.of("kill", "-USR1", Long.toString(postmaster.pid())), log, SIGNAL_TIMEOUT, "cannot signal Postgres");
    }

    /** The postmaster's pid when one is running on this data directory. */
    public static OptionalLong postmasterPid(Path dataDir) {
        return postmaster(dataDir).map(h -> OptionalLong.of(h.pid())).orElse(OptionalLong.empty());
    }

    /** The postmaster running on this data directory, if one does. */
    public static Optional<ProcessHandle> postmaster(Path dataDir) {
        return PidFile.liveProcess(dataDir.resolve("postmaster.pid"))
                .filter(h -> h.info().command().map(c -> c.endsWith("postgres")).orElse(true));
    }

    private void run(List<String> cmd, Path log, Duration timeout, String failure) {
        exec(user.command(cmd), log, timeout, failure);
    }

    /** A Postgres tool's process: output appended to {@code log}, no input, no PG* variables of ours, the C locale. */
    private static ProcessBuilder processBuilder(List<String> cmd, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("PG"));
        env.put("LC_ALL", "C");
        return pb;
    }

    private static void exec(List<String> cmd, Path log, Duration timeout, String failure) {
        try {
            Process p = processBuilder(cmd, log).start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw ZenithException.failed(failure + ": no answer within " + timeout.toSeconds() + " s",
                        "see " + log);
            }
            if (p.exitValue() != 0) {
                throw ZenithException.failed(failure + ": " + lastLines(log), "see " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed(failure + ": interrupted", "see " + log);
        }
    }

    /** The error for a Postgres that exited before it was ready, quoting its log. */
    public static ZenithException exitedWhileStarting(String nodeName, Path log) {
        return ZenithException.failed("Postgres for " + nodeName + " exited while starting: " + lastLines(log), "see " + log);
    }

    /** The last FATAL/ERROR line of a log, or its last line: what a user needs to see first. */
    public static String lastLines(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= Math.max(0, lines.size() - 40); i--) {
                String l = lines.get(i);
                if (l.contains("FATAL") || l.contains("ERROR") || l.contains("PANIC")) {
                    return l.trim();
                }
            }
            return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1).trim();
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
