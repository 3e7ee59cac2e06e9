package dev.zenith.compute;

import dev.zenith.Deadline;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.postgres.PgControl;
import dev.zenith.postgres.PgCtl;
import dev.zenith.postgres.PostmasterStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A Postgres zenith runs for itself on a data directory being made under {@code tmp/}, before it is
 * an image: a fresh cluster a dump is restored into, a followed branch's newest image recovering to
 * make the next. It listens on a Unix socket only and archives nothing; {@link #stopCleanly} ends it with the
 * shutdown checkpoint an image starts from, and {@link #close} ends it at once if that did not happen.
 */
final class StagedServer implements AutoCloseable {

    /** What it is started for, and the settings that work wants. */
    enum Work {
        /** A restored cluster's last start, as its own configuration says, which records that configuration's {@code wal_level} in pg_control. */
        AS_CONFIGURED(Map.of(), PgCtl.Priority.FOREGROUND),
        /**
         * A followed branch's new image: the newest one recovering as configured for it, in the
         * background, as nobody waits for it and the source may run on this very machine.
         */
        FOLLOWED_IMAGE(Map.of(), PgCtl.Priority.BACKGROUND),
        /**
         * A bulk restore, as pg_restore's documentation advises: no checkpoint before the end (which takes
         * the whole load in one go), no full-page images, and {@code wal_level = minimal}, under which a
         * table's COPY in the transaction that emptied it (pg_restore's parallel mode does that) and an
         * index's build are synced at commit instead of written twice through WAL. A crash midway throws
         * the staged directory away, so none of this can cost data. pg_control keeps the minimal level,
         * which a compute recovering from the image as a standby refuses ("WAL was generated with
         * wal_level=minimal"): the restored cluster is started once more {@link #AS_CONFIGURED}.
         */
        /**
         * A branch's copy recovering to its point, then emptied (or masked) in place to become a new root:
         * no autovacuum (it would only rewrite what is about to go), and the bulk settings of a restore that
         * keep wal_level (a standby needs replica): a crash throws the copy away, so none can cost data. Unlike a
         * restore, checkpoints still come every 2 GB of WAL: none of it is kept, and masking a large table
         * would otherwise hold all of its UPDATE's WAL on the laptop's disk at once.
         */
        DERIVED_ROOT(Map.of("autovacuum", "off", "max_wal_size", "2GB", "checkpoint_timeout", "1d", "full_page_writes", "off",
                "synchronous_commit", "off", "maintenance_work_mem", "256MB", "wal_compression", "off"), PgCtl.Priority.FOREGROUND),
        RESTORE(Map.of("max_wal_size", "64GB", "checkpoint_timeout", "1d", "full_page_writes", "off",
                "synchronous_commit", "off", "maintenance_work_mem", "256MB", "wal_level", "minimal", "max_wal_senders", "0"),
                PgCtl.Priority.FOREGROUND);

        private final Map<String, String> settings;
        private final PgCtl.Priority priority;

        Work(Map<String, String> settings, PgCtl.Priority priority) {
            this.settings = settings;
            this.priority = priority;
        }
    }

    private static final Duration STATUS_STEP = Duration.ofMillis(5);
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);

    private final PgCtl pgCtl;
    private final Path dataDir;
    private final Path socketDir;
    private final int port;
    private final Path log;
    private final Process postgres;

    private StagedServer(PgCtl pgCtl, Path dataDir, Path socketDir, int port, Path log, Process postgres) {
        this.pgCtl = pgCtl;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.port = port;
        this.log = log;
        this.postgres = postgres;
    }

    /** Starts Postgres on {@code dataDir} and waits until it takes connections (a recovery may take long). */
    static StagedServer start(PgCtl pgCtl, Path dataDir, Work work, Path socketDir, Path log, Duration timeout) {
        int port = unusedPortNumber();
        StagedServer server = new StagedServer(pgCtl, dataDir, socketDir, port, log,
                pgCtl.launchPrivately(dataDir, socketDir, port, work.settings, work.priority, log));
        try {
            server.awaitReady(timeout);
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** A libpq connection string to it, over its socket. */
    String conninfo(String user, String database) {
        return "host=" + socketDir + " port=" + port + " user='" + user.replace("'", "\\'") + "' dbname='"
                + database.replace("'", "\\'") + "'";
    }

    /** Stops it with a shutdown checkpoint and returns where that is: the point the data directory now stands at. */
    WalPoint stopCleanly() {
        if (!pgCtl.stop(dataDir, log, STOP_TIMEOUT)) {
            throw ZenithException.failed("Postgres did not stop cleanly on " + dataDir, "see " + log);
        }
        return PgControl.read(dataDir).checkpoint();
    }

    private void awaitReady(Duration timeout) {
        Deadline deadline = Deadline.in(timeout);
        while (!deadline.passed()) {
            if (PostmasterStatus.of(dataDir, postgres.pid()).filter(s -> s == PostmasterStatus.READY).isPresent()) {
                return;
            }
            if (!postgres.isAlive()) {
                throw PgCtl.exitedWhileStarting("the import", log);
            }
            Deadline.pause(STATUS_STEP);
        }
        throw ZenithException.failed("Postgres did not accept connections on " + dataDir + " in " + timeout.toMinutes()
                + " minutes", "see " + log);
    }

    /**
     * A number for its socket's name ({@code .s.PGSQL.N}) that no compute's socket has: a port free on
     * loopback now, as computes take theirs from the ports free when they are made.
     */
    private static int unusedPortNumber() {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port number", e);
        }
    }

    @Override
    public void close() {
        if (postgres.isAlive()) {
            pgCtl.quit(dataDir, log, Duration.ofSeconds(30));
            postgres.destroyForcibly();
        }
    }
}
