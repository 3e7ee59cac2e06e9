package dev.zenith.it;

import dev.zenith.postgres.OsUser;
import dev.zenith.storage.FileTrees;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL server outside zenith, as a user's production or staging is: initdb'd from {@code bin}
 * into a directory of its own, listening on a free loopback port with {@code wal_level = replica},
 * trusting loopback (replication included). Run as the Postgres OS user when the tests run as root.
 */
final class SourcePostgres implements AutoCloseable {

    static final Path DEBIAN_15 = Path.of("/usr/lib/postgresql/15/bin");
    /** zonky's PostgreSQL 14, which Maven copies into target/test-servers: a version zenith does not run. */
    private static final Path POSTGRES_14_JAR = Path.of("target/test-servers/postgres-14.jar").toAbsolutePath();

    /**
     * The bin directory of PostgreSQL 14, unpacked once under /tmp, where the unprivileged user Postgres
     * runs as (when the tests run as root) can reach it, as it may not reach a build directory.
     */
    static Path postgres14() throws IOException {
        Path dir = Path.of("/tmp/zenith-test-postgres-14.25.0");
        if (!Files.isExecutable(dir.resolve("bin/postgres"))) {
            Path staging = Files.createTempDirectory(dir.getParent(), "zenith-test-postgres-14");
            try (java.util.zip.ZipFile jar = new java.util.zip.ZipFile(POSTGRES_14_JAR.toFile());
                 var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                         new org.apache.commons.compress.compressors.xz.XZCompressorInputStream(
                                 jar.getInputStream(jar.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                                         .orElseThrow())))) {
                dev.zenith.postgres.PgDistribution.extract(tar, staging);
            }
            try {
                Files.move(staging, dir);
            } catch (java.nio.file.FileAlreadyExistsException unpackedMeanwhile) {
                FileTrees.deleteTree(staging);
            }
        }
        return dir.resolve("bin");
    }

    private final Path bin;
    private final Path dir;
    private final OsUser user = OsUser.resolve(null);
    final int port = Zenith.freePort();

    private SourcePostgres(Path bin, Path dir) {
        this.bin = bin;
        this.dir = dir;
    }

    static SourcePostgres start(Path bin) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "src");
        SourcePostgres pg = new SourcePostgres(bin, dir);
        pg.user.ownTree(dir);
        pg.exec("initdb", "-D", pg.data().toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale");
        Files.writeString(pg.data().resolve("postgresql.conf"), "\nport = " + pg.port + "\nlisten_addresses = '127.0.0.1'\n"
                + "unix_socket_directories = '" + dir + "'\nwal_level = replica\n", java.nio.file.StandardOpenOption.APPEND);
        pg.start();
        return pg;
    }

    Path data() {
        return dir.resolve("data");
    }

    void start() throws IOException, InterruptedException {
        exec("pg_ctl", "-D", data().toString(), "-l", dir.resolve("log").toString(), "-w", "start");
    }

    void stop() throws IOException, InterruptedException {
        exec("pg_ctl", "-D", data().toString(), "-m", "immediate", "-w", "stop");
    }

    /** A libpq URI for {@code user} and {@code database}. */
    String uri(String role, String database) {
        return "postgresql://" + role + "@127.0.0.1:" + port + "/" + database;
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres");
    }

    void execute(String database, String... sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }

    /** Runs one of the source installation's client tools (pg_dump, ...) as this process's user. */
    Zenith.Result tool(String name, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve(name).toString()));
        cmd.addAll(List.of(args));
        return Zenith.run(new ProcessBuilder(cmd), Duration.ofMinutes(5)).ok();
    }

    private void exec(String tool, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve(tool).toString()));
        cmd.addAll(List.of(args));
        Zenith.run(new ProcessBuilder(user.command(cmd)).directory(dir.toFile()), Duration.ofMinutes(2)).ok();
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } catch (AssertionError | IOException alreadyStopped) {
            // stopped by the test
        }
        FileTrees.deleteTree(dir);
    }
}
