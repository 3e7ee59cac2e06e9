package dev.zenith.it;

import dev.zenith.postgres.OsUser;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Safe by default: loopback only, passwords when asked for or when listening beyond, a closed repository. */
class SecurityTest {

    private static final String PASSWORD = "correct horse battery";

    @Test
    void withPasswordAuthEveryWayInNeedsThePassword() throws Exception {
        try (Zenith z = Zenith.empty()) {
            Path file = passwordFile(z);
            z.init("--auth", "password", "--password-file", file.toString()).ok();
            z.cli("pageserver", "start").ok();
            z.cli("branch", "feature", "main").ok(); // the daemon's own connections use the password
            for (String branch : new String[] {"main", "feature"}) {
                assertRefused(() -> DriverManager.getConnection(z.proxyUrl("branch%3D" + branch)));
                assertRefused(() -> DriverManager.getConnection(z.proxyUrl("branch%3D" + branch) + "&password=wrong-password"));
                try (Connection c = DriverManager.getConnection(z.proxyUrl("branch%3D" + branch) + "&password=" + PASSWORD.replace(" ", "%20"));
                     Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo(System.getProperty("user.name"));
                }
                int port = z.port(branch);
                assertRefused(() -> z.connect(port)); // straight to the compute too
            }
            // the postgres role tools expect has the repository's password too
            assertRefused(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + z.proxyPort() + "/postgres?user=postgres"));
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + z.proxyPort()
                    + "/postgres?user=postgres&password=" + PASSWORD.replace(" ", "%20"));
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("postgres");
            }
            if (Psql.installed()) {
                String conninfo = "host=127.0.0.1 port=" + z.proxyPort() + " dbname=postgres options=branch=feature";
                assertThat(Psql.run(conninfo, Map.of("PGPASSWORD", PASSWORD), "SELECT 7").out()).isEqualTo("7");
                assertThat(Psql.run(conninfo, Map.of("PGPASSWORD", "nope-nope"), "SELECT 7").exit()).isNotZero();
            }
            assertThat(z.cli("auth").ok().out()).contains("auth: password");
        }
    }

    @Test
    void noClientGetsInWithoutThePasswordWhileComputesStart() throws Exception {
        try (Zenith z = Zenith.empty()) {
            Path file = passwordFile(z);
            z.init("--auth", "password", "--password-file", file.toString()).ok();
            z.cli("pageserver", "start").ok();
            z.cli("branch", "hammered", "main").ok();
            int port = z.start("hammered");
            java.util.concurrent.atomic.AtomicInteger admitted = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread hammer = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    tries.incrementAndGet();
                    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user="
                            + System.getProperty("user.name") + "&connectTimeout=2")) {
                        admitted.incrementAndGet();
                    } catch (java.sql.SQLException refusedOrDown) {
                        // refused (28P01, 08004) or not listening: both keep the client out
                    }
                }
            });
            try {
                for (int i = 0; i < 50; i++) {
                    z.cli("pg", "stop", "hammered").ok();
                    z.cli("pg", "start", "hammered").ok();
                }
            } finally {
                done.set(true);
                hammer.join();
            }
            assertThat(tries.get()).as("connection attempts while 50 starts ran").isGreaterThan(50);
            assertThat(admitted.get()).as("clients let in without the password").isZero();
        }
    }

    @Test
    void switchingToPasswordsLaterCoversBranchesMadeBefore() throws Exception {
        try (Zenith z = Zenith.started()) {
            z.cli("branch", "older", "main").ok();
            z.execute(z.start("older"), "CREATE TABLE kept AS SELECT 1 AS x");
            Zenith.Result whileRunning = z.cli("auth", "password", "--password-file", passwordFile(z).toString());
            assertThat(whileRunning.exit()).isEqualTo(1);
            assertThat(whileRunning.err()).contains("zenith pageserver stop");
            z.cli("pageserver", "stop").ok();
            Zenith.Result generated = z.cli("auth", "password");
            assertThat(generated.exit()).as(generated.err()).isZero();
            String password = Files.readString(z.repo().resolve("password")).strip();
            assertThat(generated.out()).contains("generated a password").contains(password);
            z.cli("pageserver", "start").ok();
            assertRefused(() -> z.connectProxy("older"));
            try (Connection c = DriverManager.getConnection(z.proxyUrl("branch%3Dolder") + "&password=" + password);
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT x FROM kept")) {
                assertThat(rs.next()).isTrue();
            }
            z.cli("pageserver", "stop").ok();
            z.cli("auth", "trust").ok();
            assertThat(z.repo().resolve("password")).doesNotExist();
            z.cli("pageserver", "start").ok();
            try (Connection c = z.connectProxy("older")) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void aProxyBeyondLoopbackIsRefusedWithoutPasswords() throws Exception {
        try (Zenith z = Zenith.empty()) {
            Zenith.Result refused = z.init("--proxy-address", "0.0.0.0");
            assertThat(refused.exit()).isEqualTo(2);
            assertThat(refused.err()).contains("0.0.0.0").contains("zenith auth password");
            assertThat(z.repo()).doesNotExist();

            z.init().ok();
            Path config = z.repo().resolve("config.json");
            Files.writeString(config, Files.readString(config).replace("\"127.0.0.1\"", "\"0.0.0.0\""));
            Zenith.Result start = z.cli("pageserver", "start");
            assertThat(start.exit()).isEqualTo(2);
            assertThat(start.err()).contains("auth = trust");
            assertThat(z.daemonPid()).isEmpty();

            z.cli("auth", "password", "--password-file", passwordFile(z).toString()).ok();
            z.cli("pageserver", "start").ok();
            assertThat(z.cli("status", "--json").ok().out()).contains("0.0.0.0:" + z.proxyPort());
        }
    }

    @Test
    void theRepositoryIsClosedToOtherLocalUsers() throws Exception {
        try (Zenith z = Zenith.started()) {
            z.cli("auth").ok();
            Set<PosixFilePermission> root = Files.getPosixFilePermissions(z.repo());
            assertThat(root).doesNotContain(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.OTHERS_EXECUTE);
            if (OsUser.currentUid() == 0) {
                // Postgres's user may enter through the group, nobody else
                assertThat(root).doesNotContain(PosixFilePermission.GROUP_WRITE);
                int gid = (Integer) Files.getAttribute(z.repo(), "unix:gid");
                assertThat(gid).isEqualTo(OsUser.resolve(null).gid());
            } else {
                assertThat(root).containsOnly(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                        PosixFilePermission.OWNER_EXECUTE);
            }
            // the compute's sockets and data directories sit inside it
            z.start("main");
            assertThat(z.repo().resolve("sockets")).isDirectory();
            assertThat(z.repo().resolve("pgdatadirs/pg1").toRealPath().startsWith(z.repo().toRealPath())).isTrue();
            z.cli("pageserver", "stop").ok();
            z.cli("auth", "password").ok();
            assertThat(Files.getPosixFilePermissions(z.repo().resolve("password"))).containsOnly(
                    PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        }
    }

    private static Path passwordFile(Zenith z) throws Exception {
        Path file = z.dir().resolve("pw.txt");
        Files.writeString(file, PASSWORD + "\n");
        return file;
    }

    interface Attempt {
        Connection connect() throws SQLException;
    }

    private static void assertRefused(Attempt attempt) {
        assertThatThrownBy(() -> attempt.connect().close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("28P01", "08004"));
    }
}
