package dev.zenith.source;

import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs one of the user's client tools for an import: with the caller's libpq environment (the
 * {@code PG*} variables of the terminal that asked, such as {@code PGPASSWORD} or {@code PGPASSFILE})
 * instead of the daemon's, its messages appended to the import's log, and a failure told in the
 * user's terms: a refused password, an unreachable server, a pg_hba.conf that does not let us in.
 */
public final class ClientRun {

    private final ClientTools tools;
    private final Map<String, String> callerEnv;
    private final Path log;

    public ClientRun(ClientTools tools, Map<String, String> callerEnv, Path log) {
        this.tools = tools;
        this.callerEnv = Map.copyOf(callerEnv);
        this.log = log;
    }

    /** The same tools and log for the server zenith runs itself: none of the caller's environment. */
    public ClientRun local() {
        return new ClientRun(tools, Map.of(), log);
    }

    public ClientTools tools() {
        return tools;
    }

    public Path log() {
        return log;
    }

    /** Runs {@code tool} and returns what it printed on stdout; {@code what} names the step in an error. */
    public String output(String tool, List<String> args, String what) {
        Path out = log.resolveSibling(log.getFileName() + ".out");
        try {
            exec(tool, args, ProcessBuilder.Redirect.to(out.toFile()), what);
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the output of " + tool, e);
        } finally {
            try {
                Files.deleteIfExists(out);
            } catch (IOException ignored) {
                // a leftover output file in logs/ harms nothing
            }
        }
    }

    /** Runs {@code tool}, everything it prints going to the log. */
    public void run(String tool, List<String> args, String what) {
        exec(tool, args, ProcessBuilder.Redirect.appendTo(log.toFile()), what);
    }

    private void exec(String tool, List<String> args, ProcessBuilder.Redirect stdout, String what) {
        List<String> cmd = new ArrayList<>();
        cmd.add(tools.tool(tool).toString());
        cmd.addAll(args);
        Path stderr = log.resolveSibling(log.getFileName() + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout)
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        useCallerEnvironment(pb.environment(), callerEnv, "zenith-import");
        try {
            Files.createDirectories(log.getParent());
            append(java.time.Instant.now() + " $ " + tool + " " + String.join(" ", args.stream().map(ClientRun::shown).toList())
                    + "\n");
            long started = System.nanoTime();
            Process p = pb.start();
            int exit;
            try {
                exit = p.waitFor();
            } catch (InterruptedException e) {
                p.destroy();
                Thread.currentThread().interrupt();
                throw ZenithException.failed(what + " was interrupted", "run the import again");
            }
            String said = Files.readString(stderr, StandardCharsets.UTF_8);
            Files.deleteIfExists(stderr);
            append(said + (said.isEmpty() || said.endsWith("\n") ? "" : "\n") + java.time.Instant.now() + " " + tool + " exited with " + exit + " after "
                    + (System.nanoTime() - started) / 1_000_000 + " ms\n");
            if (exit != 0) {
                throw failure(what, firstError(said));
            }
        } catch (IOException e) {
            throw ZenithException.failed("cannot run " + tools.tool(tool) + ": " + e.getMessage(), ClientTools.installHint(0));
        }
    }

    private void append(String text) throws IOException {
        Files.writeString(log, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }

    /** The line of a tool's messages that says what went wrong: its first error, else its last line. */
    private static String firstError(String said) {
        List<String> lines = said.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return lines.stream().filter(l -> l.contains("error:") || l.contains("FATAL:") || l.contains("ERROR:")).findFirst()
                .orElse(lines.isEmpty() ? "(no message)" : lines.getLast());
    }

    /**
     * Makes a tool's environment libpq-wise the caller's: the daemon's own {@code PG*} variables out, the
     * caller's in, and {@code application_name} saying which part of zenith connects.
     */
    public static void useCallerEnvironment(Map<String, String> env, Map<String, String> callerEnv, String applicationName) {
        env.keySet().removeIf(k -> k.startsWith("PG"));
        callerEnv.forEach((k, v) -> {
            if (k.startsWith("PG")) {
                env.put(k, v);
            }
        });
        env.put("PGAPPNAME", applicationName);
    }

    /** A connection string in the log has its password left out. */
    private static String shown(String arg) {
        return arg.contains("=") || Source.Server.isUri(arg) ? new Source.Server(arg).shown() : arg;
    }

    private ZenithException failure(String what, String line) {
        String said = line.replaceFirst("^.*?(FATAL|ERROR|error):\\s*", "");
        if (said.contains("password authentication failed") || said.contains("no password supplied")) {
            return ZenithException.failed(what + ": the source refused the password (" + said + ")",
                    "set PGPASSWORD, or add a line to ~/.pgpass (or the file $PGPASSFILE names), in the terminal you run"
                            + " zenith import from, or put the password in the connection string");
        }
        if (said.contains("no pg_hba.conf entry")) {
            return ZenithException.failed(what + ": the source's pg_hba.conf does not let this machine in (" + said + ")",
                    "add a line for this host and user to the source's pg_hba.conf (for a replication connection, with"
                            + " database \"replication\"), or import with --logical");
        }
        if (said.contains("Connection refused") || said.contains("could not translate host name")
                || said.contains("timeout expired") || said.contains("No such file or directory")
                || said.contains("Network is unreachable") || said.contains("server closed the connection")) {
            return ZenithException.failed(what + ": cannot reach the source (" + said + ")",
                    "check the host and port in the connection string and that the server runs, then run the import again");
        }
        return ZenithException.failed(what + " failed: " + said, "see " + log);
    }
}
