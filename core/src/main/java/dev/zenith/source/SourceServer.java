package dev.zenith.source;

import dev.zenith.ZenithException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A server an import reads from, through the user's client tools. */
public final class SourceServer {

    private final Source.Server server;
    private final ClientRun run;

    public SourceServer(Source.Server server, ClientRun run) {
        this.server = server;
        this.run = run;
    }

    /** What the server says of itself; a wrong password or an unreachable host is refused here, before any work. */
    public SourceFacts probe() {
        String answer = run.output("psql", List.of("-X", "-w", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", server.conninfo(),
                "-c", SourceFacts.QUERY), "connecting to " + server.shown());
        return SourceFacts.parse(answer);
    }

    /**
     * Whether the server takes a replication connection from us: the role's REPLICATION attribute is not
     * enough, pg_hba.conf must let it in too, which only trying tells.
     */
    public boolean acceptsReplication() {
        try {
            run.output("psql", List.of("-X", "-w", "-A", "-t", "-d", server.replication(), "-c", "IDENTIFY_SYSTEM"),
                    "opening a replication connection to " + server.shown());
            return true;
        } catch (ZenithException refused) {
            return false;
        }
    }

    /**
     * Copies the whole cluster into {@code target} (absent) with the WAL that makes it consistent. Without
     * pg_basebackup's own fsync: the copy's first start recovers from {@code backup_label}, and Postgres
     * syncs a data directory that was not shut down cleanly before it recovers, so every file is synced once.
     */
    public void baseBackup(Path target) {
        run.run("pg_basebackup", List.of("-w", "-d", server.conninfo(), "-D", target.toString(), "-X", "stream",
                "-c", "fast", "--no-manifest", "--no-sync"), "copying " + server.shown());
    }

    /**
     * As {@link #baseBackup}, for a copy whose history goes on with the source's WAL: the copy is kept as
     * the base backup it is (its {@code backup_label}) and where its WAL ends is returned, read from the
     * backup manifest. With {@code slot}, a physical replication slot of that name is made on the source
     * first, so the source keeps its WAL until it is received.
     */
    public dev.zenith.WalPoint baseBackupToFollow(Path target, java.util.Optional<String> slot) {
        List<String> args = new ArrayList<>(List.of("-w", "-d", server.conninfo(), "-D", target.toString(), "-X", "stream",
                "-c", "fast", "--no-sync"));
        slot.ifPresent(name -> args.addAll(List.of("--create-slot", "--slot=" + name)));
        run.run("pg_basebackup", args, "copying " + server.shown());
        Path manifest = target.resolve("backup_manifest");
        try {
            com.fasterxml.jackson.databind.JsonNode ranges = dev.zenith.Json.MAPPER.readTree(manifest.toFile()).path("WAL-Ranges");
            com.fasterxml.jackson.databind.JsonNode last = ranges.get(ranges.size() - 1);
            java.nio.file.Files.delete(manifest);
            return new dev.zenith.WalPoint(dev.zenith.Lsn.parse(last.path("End-LSN").asText()), last.path("Timeline").asInt());
        } catch (java.io.IOException | RuntimeException e) {
            throw ZenithException.failed("cannot read where the copy's WAL ends from " + manifest + ": " + e.getMessage(),
                    "see " + run.log());
        }
    }

    /** The source's WAL flushed so far: what a follower has to have received to be caught up. */
    public dev.zenith.Lsn flushedLsn() {
        return dev.zenith.Lsn.parse(run.output("psql", List.of("-X", "-w", "-A", "-t", "-d", server.conninfo(), "-c",
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_flush_lsn() END"),
                "asking " + server.shown() + " where its WAL stands").strip());
    }

    /** Dumps the database the connection string names into {@code target} (absent), pg_dump's directory format. */
    public void dump(Path target, DumpFilter filter, int jobs) {
        List<String> args = new ArrayList<>(List.of("-w", "-d", server.conninfo(), "-Fd", "-j", Integer.toString(jobs),
                "-f", target.toString(), "--no-sync"));
        args.addAll(filter.pgDumpArguments());
        run.run("pg_dump", args, "dumping " + server.shown());
    }
}
