package dev.zenith.compute;

import dev.zenith.postgres.PgCtl;
import dev.zenith.storage.Repository;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a node's files are: its data directory (a cache, rebuilt from the repository when missing), the
 * WAL its recovery may read, its Postgres log, its Unix socket and its record.
 */
record NodePaths(Path dataDir, Path restoreDir, Path logFile, Path socket, Path record) {

    static NodePaths of(Repository repository, ComputeNode node) {
        return of(repository, node.name(), node.port());
    }

    /** The paths of a node named {@code name} on {@code port}, registered or to come (a standby spare's). */
    static NodePaths of(Repository repository, String name, int port) {
        return new NodePaths(repository.dataDirs().resolve(name), repository.restoreDir().resolve(name),
                logFile(repository, name), repository.socketsDir().resolve(".s.PGSQL." + port),
                repository.computesDir().resolve(name + ".json"));
    }

    static Path logFile(Repository repository, String nodeName) {
        return repository.logsDir().resolve("compute-" + nodeName + ".log");
    }

    /** The postmaster's pid, when one runs on the data directory. */
    OptionalLong pid() {
        return PgCtl.postmasterPid(dataDir);
    }

    /** The postmaster running on the data directory, if one does. */
    Optional<ProcessHandle> postmaster() {
        return PgCtl.postmaster(dataDir);
    }

    boolean isRunning() {
        return pid().isPresent();
    }
}
