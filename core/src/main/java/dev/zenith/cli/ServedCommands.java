package dev.zenith.cli;

import dev.zenith.ZenithException;
import dev.zenith.api.ClientCommands;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The commands the daemon runs for a launcher that starts no JVM ({@code zenith_run_in_daemon} in
 * scripts/daemon-client.sh): those that only talk to the daemon and answer at once, run exactly as the command
 * line runs them, in the client's working directory. A command that reads the terminal or the client's
 * environment, draws progress or takes long is refused, and the launcher runs it in a JVM of its own.
 *
 * <p>Thread-safety: immutable; every run has its own command line.
 */
final class ServedCommands implements ClientCommands {

    private static final Logger log = LoggerFactory.getLogger(ServedCommands.class);
    private static final Set<String> SERVED = Set.of("branch", "status", "connstr", "tag", "log", "diff");
    /**
     * Commands served only when bounded: the answer goes back whole, so {@code zenith log} is run here only
     * with {@code -n} (its first page, asked for at once); a whole history streams from a JVM of its own.
     */
    private static final Set<String> BOUNDED_ONLY = Set.of("log");
    /** Options that make a served command long: a new root, copied or masked, whose progress the client should see. */
    private static final Set<String> LONG = Set.of("--schema-only", "--mask");

    private final Path repository;

    ServedCommands(Path repository) {
        this.repository = repository;
    }

    @Override
    public Outcome run(Path workingDirectory, Path client, List<String> args) {
        String[] argv = args.toArray(String[]::new);
        Optional<String> command = Main.commandName(argv);
        if (command.isEmpty() || !SERVED.contains(command.get())) {
            throw ZenithException.conflict("the daemon runs only " + SERVED + " for clients, not " + args, "run it in a JVM");
        }
        if (BOUNDED_ONLY.contains(command.get()) && args.stream().noneMatch(a -> a.startsWith("-n") || a.startsWith("--max-count"))) {
            throw ZenithException.conflict("the daemon runs `zenith " + command.get() + "` for clients only with -n", "run it in a JVM");
        }
        if (args.stream().anyMatch(a -> LONG.contains(a.contains("=") ? a.substring(0, a.indexOf('=')) : a))) {
            throw ZenithException.conflict("the daemon does not run commands that take long for clients", "run it in a JVM");
        }
        if (!isThisRepository(workingDirectory.resolve(client))) {
            throw ZenithException.conflict("this daemon serves " + repository + ", not " + client, "run it in a JVM");
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cmd = Main.commandLine(new Main.Surroundings(workingDirectory, Optional.of(repository)), argv);
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        long started = System.nanoTime();
        int exitCode = cmd.execute(argv);
        log.info("ran `zenith {}` for a client in {} ms (exit {})", String.join(" ", args),
                (System.nanoTime() - started) / 1_000_000, exitCode);
        return new Outcome(exitCode, out.toString(), err.toString());
    }

    private boolean isThisRepository(Path client) {
        try {
            return Files.isSameFile(client, repository);
        } catch (IOException e) {
            return false;
        }
    }
}
