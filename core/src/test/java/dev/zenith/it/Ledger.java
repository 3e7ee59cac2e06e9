package dev.zenith.it;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client-side record of acknowledged commits: a writer inserts ids one transaction at a time and
 * remembers those the server acknowledged. Afterwards every acknowledged id must be in the table.
 */
final class Ledger implements AutoCloseable {

    /** Where the ledger's connections come from: a compute's port, or the proxy naming a branch. */
    interface Connector {
        Connection connect() throws SQLException;
    }

    private final Zenith z;
    private final String table;
    private final Set<Long> acknowledged = new ConcurrentSkipListSet<>();
    private final AtomicLong nextId = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private Thread writer;

    Ledger(Zenith z, int port, String table) throws SQLException {
        this(z, () -> z.connect(port), table);
    }

    Ledger(Zenith z, Connector connector, String table) throws SQLException {
        this.z = z;
        this.table = table;
        try (Connection c = connector.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id bigint PRIMARY KEY)");
        }
    }

    /** Writes synchronously: {@code count} acknowledged commits. */
    void write(int port, int count) throws SQLException {
        write(() -> z.connect(port), count);
    }

    void write(Connector connector, int count) throws SQLException {
        try (Connection c = connector.connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < count; i++) {
                long id = nextId.incrementAndGet();
                s.execute("INSERT INTO " + table + " VALUES (" + id + ")");
                acknowledged.add(id);
            }
        }
    }

    /** Writes in the background until {@link #stopWriting}, or until the server goes away. */
    void startWriting(int port) {
        startWriting(() -> z.connect(port));
    }

    void startWriting(Connector connector) {
        stop.set(false);
        writer = Thread.ofPlatform().start(() -> {
            try (Connection c = connector.connect(); Statement s = c.createStatement()) {
                while (!stop.get()) {
                    long id = nextId.incrementAndGet();
                    s.execute("INSERT INTO " + table + " VALUES (" + id + ")");
                    acknowledged.add(id);
                }
            } catch (SQLException e) {
                // the server was killed under us: what was acknowledged so far is what counts
            }
        });
    }

    void awaitAcknowledged(int atLeast) {
        Zenith.waitFor(java.time.Duration.ofSeconds(60), () -> acknowledged.size() >= atLeast,
                atLeast + " acknowledged commits");
    }

    void stopWriting() throws InterruptedException {
        stop.set(true);
        if (writer != null) {
            writer.join();
        }
    }

    int acknowledged() {
        return acknowledged.size();
    }

    /** How many acknowledged commits the server at {@code port} has lost. */
    long lost(int port) throws SQLException {
        return lost(() -> z.connect(port));
    }

    long lost(Connector connector) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = connector.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        return acknowledged.stream().filter(id -> !present.contains(id)).count();
    }

    @Override
    public void close() throws InterruptedException {
        stopWriting();
    }
}
