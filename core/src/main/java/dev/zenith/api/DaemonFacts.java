package dev.zenith.api;

import dev.zenith.RepositoryConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What the API tells of the daemon serving it, handed over by the daemon at start.
 *
 * @param repository   the repository's directory
 * @param configFile   its {@code config.json}, named in hints
 * @param logFile      the daemon's log, named when a request fails
 * @param config       the settings in force for this run
 * @param proxy        where the proxy listens
 * @param postgresBin  the PostgreSQL binaries in use
 * @param osUser       the OS user Postgres runs as
 * @param idleChecks   how many idle checks have run (lets a caller wait for the next one)
 */
public record DaemonFacts(Path repository, Path configFile, Path logFile, RepositoryConfig config, List<String> proxy,
                          Path postgresBin, String postgresVersion, String osUser, LongSupplier idleChecks) {
}
