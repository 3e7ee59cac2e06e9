package dev.zenith.compute;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Deque;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * zenith's own connections to its computes (restore points, WAL positions, the idle check), kept open
 * between uses: a new connection forks a backend, which is most of a branch creation's time.
 * Written by hand rather than with HikariCP: each compute needs one or two connections that come and
 * go with it, and a pool object with its own housekeeping thread per compute is more than that.
 *
 * <p>Thread-safety: lock-free; idle connections wait in a concurrent deque per port, and a connection
 * taken from it belongs to the taker alone until it is given back.
 */
final class InternalConnections implements AutoCloseable {

    /** Work on one connection. */
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** zenith's own connections, which do not keep a compute awake. */
    static final String APPLICATION = "zenith-internal";

    private final Path socketsDir;
    private final String password;
    private final Map<Integer, Deque<Connection>> idle = new ConcurrentHashMap<>();

    /**
     * Connections go through each compute's Unix socket in {@code socketsDir} (see {@link UnixSocketFactory}).
     * With {@code password} null, computes are expected to trust them. Each call names the superuser to log
     * in as: a port's compute always has the same one.
     */
    InternalConnections(Path socketsDir, String password) {
        this.socketsDir = socketsDir;
        this.password = password;
    }

    /** Runs {@code work} on a connection to the compute on {@code port}; a connection broken by a restart is replaced once. */
    <T> T with(int port, String user, Work<T> work) throws SQLException {
        Connection c = idle.computeIfAbsent(port, p -> new ConcurrentLinkedDeque<>()).pollFirst();
        boolean reused = c != null;
        if (c == null) {
            c = open(port, user);
        }
        try {
            T result = work.run(c);
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
            Deque<Connection> pool = idle.get(port);
            if (pool != null) {
                pool.offerFirst(c);
            } else {
                closeQuietly(c); // the compute was stopped meanwhile and its connections discarded
            }
            return result;
        } catch (SQLException e) {
            closeQuietly(c);
            if (reused && isConnectionFailure(e)) {
                return with(port, user, work);
            }
            throw e;
        }
    }

    /** A connection of its own for the caller to close (waiting for a start, where the server is not up yet). */
    Connection open(int port, String user) throws SQLException {
        return open(port, user, password);
    }

    /** A connection of the caller's own logging in with {@code password} (null: none). */
    Connection open(int port, String user, String password) throws SQLException {
        return open(port, user, password, "postgres");
    }

    /** A connection of the caller's own to {@code database}, not kept: the pool holds connections to {@code postgres} only. */
    Connection openDatabase(int port, String user, String database) throws SQLException {
        return open(port, user, password, database);
    }

    private Connection open(int port, String user, String password, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");
        props.setProperty("ApplicationName", APPLICATION);
        props.setProperty("socketFactory", UnixSocketFactory.class.getName());
        props.setProperty("socketFactoryArg", socketsDir.resolve(".s.PGSQL." + port).toString());
        props.setProperty("PGDBNAME", database);
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/", props);
    }

    /** Forgets a compute's connections: before it stops, or when it is gone. */
    void discard(int port) {
        Deque<Connection> connections = idle.remove(port);
        if (connections != null) {
            connections.forEach(InternalConnections::closeQuietly);
        }
    }

    @Override
    public void close() {
        idle.keySet().forEach(this::discard);
    }

    private static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.equals("57P01");
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // already broken
        }
    }
}
