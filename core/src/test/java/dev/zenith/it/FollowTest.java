package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code zenith import --follow}: a real server outside zenith (Debian's PostgreSQL 15) written to all along,
 * its WAL received into the branch's history; branches of it at its end and at a time; the source restarted,
 * the daemon killed; the source losing WAL not received yet; the end of following.
 */
class FollowTest {

    @Test
    void aFollowedBranchHasEveryCommittedRowAtEveryMomentAndSurvivesRestarts() throws Exception {
        assumeDebian15();
        try (Zenith z = Zenith.started(); SourcePostgres source = SourcePostgres.start(SourcePostgres.DEBIAN_15);
             Writer writer = new Writer(source)) {
            source.execute("postgres", "CREATE TABLE ledger (id bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())");
            writer.write(100);
            Zenith.Result imported = z.cli("import", source.uri("postgres", "postgres"), "--as", "prod", "--follow").ok();
            assertThat(imported.out()).contains("(physical, PostgreSQL 15").contains("following");

            // a branch at the end has every row acknowledged before it was asked for
            writer.start();
            writer.awaitMore(300);
            long acknowledged = writer.acknowledged();
            z.cli("branch", "now", "prod").ok();
            long onBranch = count(z, "now");
            assertThat(onBranch).isGreaterThanOrEqualTo(acknowledged);
            assertThat(max(z, "now")).as("no row missing in between").isEqualTo(onBranch);

            // a branch at a time shows exactly the source as it was then
            writer.stop();
            long before = writer.acknowledged();
            Instant then = Instant.now();
            writer.write(50);
            z.cli("branch", "then", "prod", "--at", then.toString()).ok();
            assertThat(count(z, "then")).isEqualTo(before);
            // and read-only, at that moment and at the very end of what arrived
            assertThat(count(z, "prod@" + then)).isEqualTo(before);
            assertThat(count(z, "prod@" + Instant.now())).isEqualTo(before + 50);

            // the followed branch itself takes no writes
            try (Connection c = z.connectProxy("prod")) {
                throw new AssertionError("a followed branch took a connection to write");
            } catch (SQLException e) {
                assertThat(e.getMessage()).contains("follows its source and takes no writes");
            }

            // the daemon killed while the source is written, and the source restarted: nothing is missed
            writer.start();
            writer.awaitMore(200);
            z.kill9Daemon();
            writer.awaitMore(200);
            z.cli("pageserver", "start").ok();
            writer.awaitMore(200);
            source.stop();
            writer.awaitFailure();
            source.start();
            writer.awaitMore(200);
            writer.stop();
            z.cli("branch", "later", "prod").ok();
            assertThat(count(z, "later")).isEqualTo(writer.acknowledged());
            assertThat(max(z, "later")).isEqualTo(writer.acknowledged());

            JsonNode prod = branch(z, "prod");
            assertThat(prod.path("following").path("receiving").asBoolean()).isTrue();
            assertThat(prod.path("following").path("lagBytes").asLong()).isZero();
            assertThat(z.cli("branch").ok().out()).contains("following: received up to").contains("(caught up)");
            assertThat(z.cli("status").ok().out()).contains("follows:     prod <- " + source.uri("postgres", "postgres"));
            assertThat(z.api("GET", "/metrics", null).out()).contains("zenith_follow_lag_bytes{branch=\"prod\"} 0.0");
            Path followFile = z.repo().resolve("timelines").resolve(prod.path("timelineId").asText()).resolve("follow.json");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(followFile))).isEqualTo("rw-------");

            // the end of following: the branch keeps all it received and takes writes
            z.cli("import", "--stop-following", "prod").ok();
            assertThat(branch(z, "prod").path("following").isNull()).isTrue();
            try (Connection c = z.connectProxy("prod"); Statement s = c.createStatement()) {
                s.execute("INSERT INTO ledger (id) VALUES (-1)");
            }
            assertThat(count(z, "prod")).isEqualTo(writer.acknowledged() + 1);
        }
    }

    @Test
    void newImagesAsWalArrivesKeepABranchsReplayShort() throws Exception {
        assumeDebian15();
        try (Zenith z = Zenith.empty(); SourcePostgres source = SourcePostgres.start(SourcePostgres.DEBIAN_15)) {
            z.init().ok();
            z.configure(java.util.Map.of("imageWalThresholdMb", 16, "housekeepingInterval", "1s"));
            z.cli("pageserver", "start").ok();
            source.execute("postgres", "CREATE TABLE ledger (id bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())",
                    "INSERT INTO ledger (id) SELECT g FROM generate_series(1, 1000) g");
            z.cli("import", source.uri("postgres", "postgres"), "--as", "prod", "--follow").ok();
            Path images = z.repo().resolve("timelines").resolve(branch(z, "prod").path("timelineId").asText()).resolve("images");
            String baseBackup = imageLsn(images);
            source.execute("postgres", "INSERT INTO ledger (id) SELECT g FROM generate_series(1001, 400000) g");
            z.awaitDaemon(Duration.ofSeconds(120), () -> imageCount(images) >= 2, "an image of the followed branch");

            source.execute("postgres", "INSERT INTO ledger (id) VALUES (400001)");
            z.cli("branch", "recent", "prod").ok();
            assertThat(count(z, "recent")).isEqualTo(400001);
            java.util.regex.Matcher prepared = java.util.regex.Pattern.compile("prepared pg\\d+ for timeline "
                    + branch(z, "recent").path("timelineId").asText() + " from image ([0-9A-F]+/[0-9A-F]+)").matcher(z.daemonLog());
            assertThat(prepared.find()).isTrue();
            assertThat(prepared.group(1)).as("the new image, not the base backup").isNotEqualTo(baseBackup);

            // and a branch at a point before the new image still starts from the base backup
            z.cli("branch", "old", "prod", "--at", "0/" + baseBackup.substring(2)).ok();
            assertThat(count(z, "old")).isEqualTo(1000);
        }
    }

    /** The LSN of the newest image in a timeline's images directory ({@code 0000000070000100-00000001}: 0/70000100). */
    private static String imageLsn(Path images) throws java.io.IOException {
        try (Stream<Path> dirs = Files.list(images)) {
            String name = dirs.map(d -> d.getFileName().toString()).max(String::compareTo).orElseThrow();
            return new dev.zenith.Lsn(Long.parseUnsignedLong(name.substring(0, 16), 16)).toString();
        }
    }

    private static long imageCount(Path images) {
        try (Stream<Path> dirs = Files.list(images)) {
            return dirs.count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void aSourceThatRecycledWalNotReceivedYetIsReportedWithTheWayOut() throws Exception {
        assumeDebian15();
        try (Zenith z = Zenith.started(); SourcePostgres source = SourcePostgres.start(SourcePostgres.DEBIAN_15)) {
            source.execute("postgres", "ALTER SYSTEM SET max_wal_size = '32MB'", "ALTER SYSTEM SET min_wal_size = '32MB'",
                    "SELECT pg_reload_conf()", "CREATE TABLE filler (x text)");
            z.cli("import", source.uri("postgres", "postgres"), "--as", "prod", "--follow").ok();
            z.cli("pageserver", "stop").ok();
            for (int i = 0; i < 4; i++) {
                source.execute("postgres", "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 30000)",
                        "SELECT pg_switch_wal()", "CHECKPOINT");
            }
            z.cli("pageserver", "start").ok();
            Zenith.waitFor(Duration.ofSeconds(60), () -> !branch(z, "prod").path("following").path("problem").isNull(),
                    "the follower to see the gap");
            assertThat(z.cli("branch").ok().out()).contains("not receiving").contains("no longer has WAL")
                    .contains("--slot NAME");
        }
    }

    private static void assumeDebian15() {
        boolean installed = Files.isExecutable(SourcePostgres.DEBIAN_15.resolve("pg_receivewal"));
        if (System.getenv("CI") == null) {
            assumeTrue(installed, "Debian's PostgreSQL 15 is not installed (apt-get install postgresql-15)");
        } else {
            assertThat(installed).as(".ci/run installs postgresql-15").isTrue();
        }
    }

    private static JsonNode branch(Zenith z, String name) {
        try {
            for (JsonNode b : Json.MAPPER.readTree(z.cli("branch", "--json").ok().out())) {
                if (b.path("name").asText().equals(name)) {
                    return b;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError("no branch " + name);
    }

    private static long count(Zenith z, String branch) throws SQLException {
        return value(z, branch, "SELECT count(*) FROM ledger");
    }

    private static long max(Zenith z, String branch) throws SQLException {
        return value(z, branch, "SELECT coalesce(max(id), 0) FROM ledger");
    }

    private static long value(Zenith z, String branch, String sql) throws SQLException {
        String options = "branch%3D" + java.net.URLEncoder.encode(branch, java.nio.charset.StandardCharsets.UTF_8);
        // as the source's superuser: a read-only view of the followed branch has the source's roles only
        String url = z.proxyUrl(options).replace("user=" + System.getProperty("user.name"), "user=postgres");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Inserts rows 1, 2, 3, ... into the source's ledger, counting those whose commit was acknowledged. */
    private static final class Writer implements AutoCloseable {
        private final SourcePostgres source;
        private final AtomicLong acknowledged = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean();
        private final AtomicBoolean failed = new AtomicBoolean();
        private Thread thread;

        Writer(SourcePostgres source) {
            this.source = source;
        }

        long acknowledged() {
            return acknowledged.get();
        }

        void write(int rows) throws SQLException {
            try (Connection c = source.connect("postgres"); Statement s = c.createStatement()) {
                if (failed.get()) {
                    // a commit whose answer the crash swallowed may have happened: count what the source has
                    try (ResultSet rs = s.executeQuery("SELECT coalesce(max(id), 0) FROM ledger")) {
                        rs.next();
                        acknowledged.set(rs.getLong(1));
                    }
                    failed.set(false);
                }
                for (int i = 0; i < rows; i++) {
                    s.execute("INSERT INTO ledger (id) VALUES (" + (acknowledged.get() + 1) + ")");
                    acknowledged.incrementAndGet();
                }
            }
        }

        void start() {
            running.set(true);
            thread = Thread.ofPlatform().name("ledger-writer").start(() -> {
                while (running.get()) {
                    try {
                        write(1);
                    } catch (SQLException e) {
                        failed.set(true); // the source is down: try again until it is back
                    }
                }
            });
        }

        void awaitMore(long rows) {
            long target = acknowledged.get() + rows;
            Zenith.waitFor(Duration.ofSeconds(60), () -> acknowledged.get() >= target, rows + " more rows on the source");
        }

        void awaitFailure() {
            Zenith.waitFor(Duration.ofSeconds(30), failed::get, "the writer to see the source gone");
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join();
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}
