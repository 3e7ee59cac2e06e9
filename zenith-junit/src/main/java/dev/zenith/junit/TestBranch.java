package dev.zenith.junit;

import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * A branch made for a test (or a test class), and what the test asked for of it: a data source, a JDBC
 * URL, connections, which are closed when the branch goes.
 */
final class TestBranch implements AutoCloseable {

    /** What every branch made for a test starts with, so {@code zenith branch} can leave them out. */
    static final String PREFIX = "test-";
    /** The pageserver deletes a test's branch after this if the JVM died before it could. */
    static final String SAFETY_EXPIRY = "1h";
    private static final int MAX_NAME = 63;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Pageserver pageserver;
    private final String name;
    private final String jdbcUrl;
    private final String connectionString;
    private final Optional<String> password;
    private final List<Connection> opened = new ArrayList<>();

    private TestBranch(Pageserver pageserver, String name, String connectionString) {
        this.pageserver = pageserver;
        this.name = name;
        this.connectionString = connectionString;
        this.jdbcUrl = jdbcUrl(connectionString);
        this.password = pageserver.password();
    }

    /** Makes a branch of {@code from} named after the test: {@code test-<class>-<method>-<id>}. */
    static TestBranch make(Pageserver pageserver, String from, String testClass, Optional<String> method) {
        String name = name(testClass, method);
        pageserver.createBranch(name, from, SAFETY_EXPIRY);
        return new TestBranch(pageserver, name, pageserver.connectionString(name));
    }

    /** {@code test-<class>-<method>-<6 hex>}, in the branch alphabet and at most 63 characters. */
    static String name(String testClass, Optional<String> method) {
        byte[] bytes = new byte[3];
        RANDOM.nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        String parts = safe(testClass) + method.map(m -> "-" + safe(m)).orElse("");
        int room = MAX_NAME - PREFIX.length() - id.length() - 1;
        return PREFIX + (parts.length() > room ? parts.substring(0, room) : parts) + "-" + id;
    }

    private static String safe(String part) {
        return part.replaceAll("[^A-Za-z0-9_-]", "-");
    }

    String name() {
        return name;
    }

    String connectionString() {
        return connectionString;
    }

    String jdbcUrl() {
        return jdbcUrl;
    }

    DataSource dataSource() {
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setUrl(jdbcUrl);
        password.ifPresent(source::setPassword);
        return source;
    }

    /** A connection, closed with the branch. */
    Connection connection() throws SQLException {
        Properties props = new Properties();
        password.ifPresent(p -> props.setProperty("password", p));
        Connection c = DriverManager.getConnection(jdbcUrl, props);
        synchronized (opened) {
            opened.add(c);
        }
        return c;
    }

    /** Closes what the test was given and deletes the branch. */
    @Override
    public void close() {
        closeConnections();
        pageserver.deleteBranch(name);
    }

    /** Closes what the test was given and leaves the branch (a failed test's, kept to look at). */
    void keep() {
        closeConnections();
    }

    private void closeConnections() {
        synchronized (opened) {
            for (Connection c : opened) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // the branch goes anyway
                }
            }
            opened.clear();
        }
    }

    /** {@code postgresql://user@host:port/db?options=...} as pgjdbc takes it. */
    static String jdbcUrl(String connectionString) {
        URI uri = URI.create(connectionString);
        String user = URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8);
        return "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getRawPath() + "?user="
                + URLEncoder.encode(user, StandardCharsets.UTF_8) + "&" + uri.getRawQuery();
    }
}
