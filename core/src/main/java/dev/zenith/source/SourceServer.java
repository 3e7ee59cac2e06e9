package dev.zenith.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
     * Copies the whole cluster into {@code target} (absent) with the WAL that makes it consistent, and
     * returns where that WAL ends, read from the backup manifest (its file checksums are not asked for:
     * nothing reads them). The copy is kept as the base backup it is, its {@code backup_label} telling a
     * later start where recovery begins. Without pg_basebackup's own fsync, file by file: the caller
     * syncs the copy's file system at once. With {@code slot}, a physical replication slot of that name
     * is made on the source first, so the source keeps its WAL until a follower has received it.
     */
    public WalPoint baseBackup(Path target, Optional<String> slot) {
        List<String> args = new ArrayList<>(List.of("-w", "-d", server.conninfo(), "-D", target.toString(), "-X", "stream",
                "-c", "fast", "--manifest-checksums=NONE", "--no-sync"));
        slot.ifPresent(name -> args.addAll(List.of("--create-slot", "--slot=" + name)));
        run.run("pg_basebackup", args, "copying " + server.shown());
        Path manifest = target.resolve("backup_manifest");
        try {
            JsonNode ranges = Json.MAPPER.readTree(manifest.toFile()).path("WAL-Ranges");
            JsonNode last = ranges.get(ranges.size() - 1);
            Files.delete(manifest);
            return new WalPoint(Lsn.parse(last.path("End-LSN").asText()), last.path("Timeline").asInt());
        } catch (IOException | RuntimeException e) {
            throw ZenithException.failed("cannot read where the copy's WAL ends from " + manifest + ": " + e.getMessage(),
                    "see " + run.log());
        }
    }

    /** The source's WAL flushed so far: what a follower has to have received to be caught up. */
    public Lsn flushedLsn() {
        return Lsn.parse(run.output("psql", List.of("-X", "-w", "-A", "-t", "-d", server.conninfo(), "-c",
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
