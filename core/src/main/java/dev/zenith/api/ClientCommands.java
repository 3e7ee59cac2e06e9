package dev.zenith.api;

import java.nio.file.Path;
import java.util.List;

/**
 * The zenith commands the daemon runs on behalf of a launcher that starts no JVM ({@code POST /v1/commands}):
 * those that only talk to the daemon answer in milliseconds this way, where a fresh JVM takes a third of a
 * second. The command line supplies it, so the API never reaches up into the CLI.
 */
public interface ClientCommands {

    /**
     * Runs {@code args} as the launcher was asked to, in the client's working directory, against
     * {@code repository} (as the launcher found it). Throws a conflict for a command that must run in the
     * client's own process (it reads the terminal, the client's environment or takes long): the launcher then
     * starts a JVM after all.
     */
    Outcome run(Path workingDirectory, Path repository, List<String> args);

    /** What a command printed, and its exit code. */
    record Outcome(int exitCode, String out, String err) {
    }

    /** A daemon that runs no commands for clients: every request is answered "run it yourself". */
    ClientCommands NONE = (workingDirectory, repository, args) -> {
        throw dev.zenith.ZenithException.conflict("this pageserver runs no commands for clients", "run the command in a JVM");
    };
}
