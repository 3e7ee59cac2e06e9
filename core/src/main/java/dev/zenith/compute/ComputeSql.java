package dev.zenith.compute;

import dev.zenith.history.Catalog;
import dev.zenith.schema.SchemaSnapshot;
import dev.zenith.postgres.PgCtl;
import dev.zenith.Deadline;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * The SQL the daemon runs on its computes, as their superuser over {@link InternalConnections}: where
 * their WAL stands, whether they are ready, how many clients they have, restore points for branches.
 */
final class ComputeSql implements AutoCloseable {

    /** What "ready to hand out" means for a start: checked by a query until it answers true. */
    enum Readiness {
        /** A read-only view's replay has paused at its target. */
        PAUSED_AT_TARGET("SELECT pg_get_wal_replay_pause_state() = 'paused'", "reach its point"),
        /** Promoted after the last WAL it could restore, or paused at its target, waiting for the promotion. */
        RECOVERED("SELECT NOT pg_is_in_recovery() OR pg_get_wal_replay_pause_state() = 'paused'", "finish its recovery");

        private final String sql;
        private final String goal;

        Readiness(String sql, String goal) {
            this.sql = sql;
            this.goal = goal;
        }
    }

    /** The superuser role tools expect to find, whoever ran {@code zenith init}. */
    static final String TOOLS_ROLE = "postgres";
    private static final Duration READY_STEP = Duration.ofMillis(5);
    private static final Duration PROMOTE_WAIT = Duration.ofSeconds(60);
    private static final Duration PROMOTED_STEP_MIN = Duration.ofMillis(1);
    private static final Duration PROMOTED_STEP_MAX = Duration.ofMillis(20);
    /**
     * How long a request made before the pause gets to be taken before the paused loop is woken: a wake costs
     * a statement, and a recovery that was not paused yet takes the request within a millisecond or two.
     */
    private static final Duration WAKE_AFTER = Duration.ofMillis(10);
    /** A wake the paused loop missed (it came before the pause) is sent again after this long. */
    private static final Duration WAKE_AGAIN = Duration.ofMillis(250);

    private final InternalConnections internal;
    /** Which superuser to log in as on a node: its branch's root's ({@link Superusers}). */
    private final java.util.function.Function<ComputeNode, String> superuserOf;
    /** The superuser initdb made for the user who ran {@code zenith init}, whom psql logs in as by default. */
    private final String repositorySuperuser;

    ComputeSql(String repositorySuperuser, java.util.function.Function<ComputeNode, String> superuserOf, Path socketsDir, String password) {
        this.repositorySuperuser = repositorySuperuser;
        this.superuserOf = superuserOf;
        this.internal = new InternalConnections(socketsDir, password);
    }

    /** Whether the compute lets its superuser in without a password: it must not, once a start is done in password mode. */
    boolean admitsWithoutPassword(ComputeNode node) throws SQLException {
        try (Connection probe = internal.open(node.port(), superuserOf.apply(node), null)) {
            return true;
        } catch (SQLException e) {
            // 08004: pgjdbc was asked for a password it does not have
            if ("08004".equals(e.getSQLState()) || "28P01".equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    /** A connection of the caller's own, to close when done (a base backup holds one for its duration). */
    Connection connect(ComputeNode node) throws SQLException {
        return internal.open(node.port(), superuserOf.apply(node));
    }

    Lsn currentLsn(ComputeNode node, Path logFile) {
        try {
            return Lsn.parse(value(node, "SELECT pg_current_wal_insert_lsn()"));
        } catch (SQLException e) {
            throw ZenithException.failed("cannot read the WAL position of compute " + node.name() + ": " + e.getMessage(),
                    "see " + logFile);
        }
    }

    /** The schema of a running compute's database, as {@code zenith diff} compares it. */
    SchemaSnapshot schema(ComputeNode node, Path logFile) {
        try {
            return internal.with(node.port(), superuserOf.apply(node), SchemaSnapshot::read);
        } catch (SQLException e) {
            throw ZenithException.failed("cannot read the schema of compute " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
    }

    /**
     * The relations of every database of a running compute, for {@code zenith log}: all kinds, since a DDL
     * transaction names its indexes and TOAST tables too, and one the catalog does not know is looked up further back.
     */
    Catalog catalog(ComputeNode node, Path logFile) {
        String user = superuserOf.apply(node);
        try {
            Map<Long, String> databases = internal.with(node.port(), user, c -> {
                Map<Long, String> found = new TreeMap<>();
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT oid, datname FROM pg_database WHERE datallowconn AND NOT datistemplate")) {
                    while (rs.next()) {
                        found.put(rs.getLong(1), rs.getString(2));
                    }
                }
                return found;
            });
            List<Catalog.Relation> relations = new ArrayList<>();
            for (Map.Entry<Long, String> db : databases.entrySet()) {
                try (Connection c = internal.openDatabase(node.port(), user, db.getValue()); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT c.oid, coalesce(pg_relation_filenode(c.oid), 0), n.nspname, c.relname, c.relkind"
                             + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace")) {
                    while (rs.next()) {
                        relations.add(new Catalog.Relation(db.getKey(), db.getValue(), rs.getLong(1), rs.getLong(2), rs.getString(3),
                                rs.getString(4), rs.getString(5).charAt(0)));
                    }
                }
            }
            return new Catalog(List.copyOf(relations));
        } catch (SQLException e) {
            throw ZenithException.failed("cannot read the catalog of compute " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
    }

    /**
     * A user's query on a compute, its result as text: rows on lines, columns split by {@code |}, NULL as
     * {@code NULL}. An error is a result too ({@code error SQLSTATE: message}): a table that does not
     * exist yet at a point is a state of the data like any other.
     */
    String resultOf(ComputeNode node, String query) {
        try {
            return internal.with(node.port(), superuserOf.apply(node), c -> {
                try (Statement s = c.createStatement()) {
                    if (!s.execute(query)) {
                        return "(no rows)";
                    }
                    try (ResultSet rs = s.getResultSet()) {
                        StringBuilder text = new StringBuilder();
                        int columns = rs.getMetaData().getColumnCount();
                        while (rs.next()) {
                            if (!text.isEmpty()) {
                                text.append('\n');
                            }
                            for (int i = 1; i <= columns; i++) {
                                String v = rs.getString(i);
                                text.append(i > 1 ? "|" : "").append(v == null ? "NULL" : v);
                            }
                        }
                        return text.toString();
                    }
                } catch (SQLException e) {
                    if (e.getSQLState() != null && !e.getSQLState().startsWith("08")) {
                        return "error " + e.getSQLState() + ": " + e.getMessage();
                    }
                    throw e;
                }
            });
        } catch (SQLException e) {
            throw ZenithException.failed("cannot run the query on compute " + node.name() + ": " + e.getMessage(), null);
        }
    }

    /** Where a running compute's WAL stands (replayed, for a standby); empty while it does not answer yet. */
    Optional<Lsn> position(ComputeNode node) {
        try {
            return Optional.of(Lsn.parse(value(node, "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                    + " ELSE pg_current_wal_insert_lsn() END")));
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /** How far a recovering compute has replayed; empty before it is consistent and takes connections. */
    Optional<Lsn> replayed(ComputeNode node) {
        try {
            return Optional.ofNullable(value(node, "SELECT pg_last_wal_replay_lsn()")).map(Lsn::parse);
        } catch (SQLException | RuntimeException notYetConsistent) {
            return Optional.empty();
        }
    }

    /**
     * Closes a running compute's current WAL segment so the archiver takes it: returns where the WAL
     * ends, and the name of a segment there, for its Postgres timeline.
     */
    SwitchedWal switchWal(ComputeNode node, Path logFile) {
        try {
            return internal.with(node.port(), superuserOf.apply(node), c -> {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT lsn, pg_walfile_name(lsn) FROM pg_switch_wal() lsn")) {
                    rs.next();
                    return new SwitchedWal(Lsn.parse(rs.getString(1)), rs.getString(2));
                }
            });
        } catch (SQLException e) {
            throw ZenithException.failed("cannot switch the WAL of compute " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
    }

    /** Where a switched WAL ends, and a segment's file name there. */
    record SwitchedWal(Lsn end, String segment) {
    }

    /** WAL segments complete but not archived yet: Postgres's {@code .ready} marks. */
    int unarchivedSegments(ComputeNode node, Path logFile) {
        try {
            return Integer.parseInt(value(node, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"));
        } catch (SQLException e) {
            throw ZenithException.failed("cannot read the archive state of compute " + node.name() + ": " + e.getMessage(),
                    "see " + logFile);
        }
    }

    /** Client connections on a running compute other than zenith's own; -1 when it cannot be asked. */
    int clientBackends(ComputeNode node) {
        try {
            return Integer.parseInt(value(node, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND application_name IS DISTINCT FROM '" + InternalConnections.APPLICATION + "'"));
        } catch (SQLException e) {
            return -1;
        }
    }

    /**
     * Writes a restore point named for {@code child} inside a transaction whose commit makes it durable:
     * the commit writes a record after the point and flushes both, so recovery can stop there.
     */
    WalPoint restorePoint(ComputeNode node, String child, Path logFile) {
        String full = dev.zenith.storage.WalReader.ZENITH_RESTORE_POINT + child;
        String pointName = full.substring(0, Math.min(63, full.length()));
        try {
            return internal.with(node.port(), superuserOf.apply(node), c -> {
                c.setAutoCommit(false);
                WalPoint point;
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT txid_current()");
                    try (ResultSet rs = s.executeQuery("SELECT p, pg_walfile_name(p) FROM pg_create_restore_point("
                            + quote(pointName) + ") AS p")) {
                        rs.next();
                        point = new WalPoint(Lsn.parse(rs.getString(1)), Integer.parseUnsignedInt(rs.getString(2).substring(0, 8), 16));
                    }
                }
                c.commit();
                return point;
            });
        } catch (SQLException e) {
            throw ZenithException.failed("cannot mark the branch point on compute " + node.name() + ": " + e.getMessage(),
                    "see " + logFile);
        }
    }

    /**
     * Waits until a read-only view whose WAL was cut at {@code end} has replayed all of it: a standby with
     * no target never pauses, it waits for more WAL at the cut.
     */
    void awaitReplayed(ComputeNode node, Lsn end, BooleanSupplier alive, Path logFile, Duration timeout) {
        Deadline deadline = Deadline.in(timeout);
        while (!deadline.passed()) {
            if (!alive.getAsBoolean()) {
                throw PgCtl.exitedWhileStarting(node.name(), logFile);
            }
            // Postgres says where the last record ended; the cut is that end rounded up to a record's alignment
            if (replayed(node).filter(lsn -> ((lsn.value() + 7) & ~7L) >= end.value()).isPresent()) {
                return;
            }
            Deadline.pause(READY_STEP);
        }
        throw ZenithException.failed("Postgres for " + node.name() + " did not replay up to " + end + " in "
                + timeout.toMinutes() + " minutes", "see " + logFile);
    }

    /**
     * Waits until a just launched compute is {@code readiness}, asking every {@link #READY_STEP} (a refused
     * connection costs little): a hot standby accepts connections before recovery reaches its target,
     * and handing the compute out then would show old data. {@code alive} tells a Postgres that exited.
     */
    void awaitReady(ComputeNode node, Readiness readiness, BooleanSupplier alive, Path logFile, Duration timeout) {
        Deadline deadline = Deadline.in(timeout);
        SQLException last = null;
        while (!deadline.passed()) {
            if (!alive.getAsBoolean()) {
                throw PgCtl.exitedWhileStarting(node.name(), logFile);
            }
            try (Connection c = connect(node); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(readiness.sql)) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return;
                }
            } catch (SQLException e) {
                if ("28P01".equals(e.getSQLState())) {
                    throw ZenithException.failed("Postgres for " + node.name() + " refuses the repository's password"
                                    + (node.mode() instanceof ComputeMode.ReadOnly r
                                    ? " (at " + r.at().lsn() + " the superuser had no password yet)" : ""),
                            "a point after zenith auth password was turned on works; see " + logFile);
                }
                last = e; // not accepting connections yet
            }
            Deadline.pause(READY_STEP);
        }
        throw ZenithException.failed("Postgres for " + node.name() + " did not " + readiness.goal + " in "
                + timeout.toMinutes() + " minutes" + (last == null ? "" : ": " + last.getMessage()), "see " + logFile);
    }

    /**
     * Sees through the promotion of a compute that has been asked to ({@link PgCtl#promote}) and has
     * paused at its target or promoted already; returns once it is out of recovery. A triggered promotion
     * writes an end-of-recovery record and leaves the checkpoint to the background, where ending recovery
     * by itself would make the first client wait for it.
     *
     * <p>When the pause came before the request, the paused loop would look
     * again only after a second: it sleeps on a condition variable that only a resume broadcasts.
     * Resuming and at once requesting the pause again wakes it to find itself still paused, and it takes
     * the request on that pass. Should it slip out between the two, recovery just ends as it would with
     * {@code recovery_target_action = promote}: the target is the same either way, only the checkpoint is
     * waited for.
     */
    void promote(ComputeNode node, Path logFile) {
        Deadline deadline = Deadline.in(PROMOTE_WAIT);
        Deadline wakeAfter = Deadline.in(WAKE_AFTER);
        try {
            if (!inRecovery(node)) {
                return;
            }
            while (!deadline.passed()) {
                Deadline.pause(READY_STEP);
                if (!inRecovery(node)) {
                    return;
                }
                if (wakeAfter.passed()) {
                    wake(node);
                    wakeAfter = Deadline.in(WAKE_AGAIN);
                }
            }
        } catch (SQLException e) {
            throw ZenithException.failed("cannot promote Postgres for " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
        throw ZenithException.failed("Postgres for " + node.name() + " did not finish its promotion in "
                + PROMOTE_WAIT.toSeconds() + " s", "see " + logFile);
    }

    /**
     * Waits until a compute asked to promote ({@link PgCtl#promote}) with no target to pause at is
     * out of recovery, asking on the kept connection: in millisecond steps at first, since a promotion
     * at the end of the WAL takes tens of them, then less often, since a long replay comes first.
     */
    void awaitPromoted(ComputeNode node, BooleanSupplier alive, Path logFile, Duration timeout) {
        Deadline deadline = Deadline.in(timeout);
        try {
            while (inRecovery(node)) {
                if (deadline.passed()) {
                    throw ZenithException.failed("Postgres for " + node.name() + " did not finish its recovery in "
                            + timeout.toMinutes() + " minutes", "see " + logFile);
                }
                if (!alive.getAsBoolean()) {
                    throw PgCtl.exitedWhileStarting(node.name(), logFile);
                }
                long waited = deadline.elapsed().toNanos();
                Deadline.pause(Duration.ofNanos(Math.clamp(waited / 20, PROMOTED_STEP_MIN.toNanos(), PROMOTED_STEP_MAX.toNanos())));
            }
        } catch (SQLException e) {
            throw ZenithException.failed("cannot promote Postgres for " + node.name() + ": " + e.getMessage(), "see " + logFile);
        }
    }

    private boolean inRecovery(ComputeNode node) throws SQLException {
        return !"f".equals(value(node, "SELECT pg_is_in_recovery()"));
    }

    /**
     * Wakes a recovery paused at its target and leaves it paused (see {@link #promote}). Once the promotion
     * has begun both calls raise "standby promotion is ongoing" (and after it, "recovery is not in progress"):
     * an ERROR in the compute's log of a start that went well. So it wakes only a paused recovery, and an error
     * of a promotion that begins between the check and the calls is caught in the block, where Postgres does
     * not log it.
     */
    private void wake(ComputeNode node) {
        try {
            internal.with(node.port(), superuserOf.apply(node), c -> {
                try (Statement s = c.createStatement()) {
                    s.execute(WAKE);
                }
                return null;
            });
        } catch (SQLException recoveryEnded) {
            // promoted before the block ran
        }
    }

    private static final String WAKE = """
            DO $$BEGIN
              IF pg_get_wal_replay_pause_state() <> 'not paused' THEN
                PERFORM pg_wal_replay_resume();
                PERFORM pg_wal_replay_pause();
              END IF;
            EXCEPTION WHEN object_not_in_prerequisite_state THEN
              NULL;
            END$$""";

    /**
     * Makes sure the {@value #TOOLS_ROLE} superuser exists, which the Docker image, most tutorials and many
     * tools connect as, beside the superuser initdb made for the OS user; and that one too, on a branch of a
     * followed source, whose data has the source's roles only. Only a branch without them writes anything:
     * on every other start the check is one read.
     */
    void ensureToolsRole(ComputeNode node, Path logFile) {
        ensureRoles(node, logFile);
    }

    /** The roles {@link #ensureToolsRole} makes sure of, one a line: what a data directory's note of them must say. */
    String ensuredRoles() {
        return String.join("\n", new java.util.TreeSet<>(java.util.List.of(TOOLS_ROLE, repositorySuperuser))) + "\n";
    }

    private void ensureRoles(ComputeNode node, Path logFile) {
        try {
            internal.with(node.port(), superuserOf.apply(node), c -> {
                // a query and statements rather than a DO block, which loads PL/pgSQL into the backend on every start
                java.util.Set<String> wanted = new java.util.TreeSet<>(java.util.List.of(TOOLS_ROLE, repositorySuperuser));
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT rolname FROM pg_roles WHERE rolname IN (" + quote(TOOLS_ROLE) + ", "
                             + quote(repositorySuperuser) + ")")) {
                    while (rs.next()) {
                        wanted.remove(rs.getString(1));
                    }
                }
                try (Statement s = c.createStatement()) {
                    for (String role : wanted) {
                        s.execute("CREATE ROLE \"" + role.replace("\"", "\"\"") + "\" SUPERUSER LOGIN");
                    }
                }
                return null;
            });
        } catch (SQLException e) {
            throw ZenithException.failed("cannot make the " + TOOLS_ROLE + " role on " + node.name() + ": " + e.getMessage(),
                    "see " + logFile);
        }
    }

    /** Sets the password (SCRAM) of the superuser and of {@value #TOOLS_ROLE} on a compute trusting the daemon for now. */
    void setPassword(ComputeNode node, String password) throws SQLException {
        internal.with(node.port(), superuserOf.apply(node), c -> {
            try (Statement s = c.createStatement()) {
                s.execute("SET password_encryption = 'scram-sha-256'");
                s.execute("ALTER ROLE CURRENT_USER PASSWORD " + quote(password));
                s.execute("ALTER ROLE " + TOOLS_ROLE + " PASSWORD " + quote(password));
            }
            return null;
        });
    }

    void reloadConfig(ComputeNode node) throws SQLException {
        value(node, "SELECT pg_reload_conf()");
    }

    /** Forgets a compute's kept connections: before it stops, or once it is gone. */
    void discard(ComputeNode node) {
        internal.discard(node.port());
    }

    @Override
    public void close() {
        internal.close();
    }

    static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private String value(ComputeNode node, String sql) throws SQLException {
        return internal.with(node.port(), superuserOf.apply(node), c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getString(1);
            }
        });
    }
}
