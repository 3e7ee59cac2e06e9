package dev.zenith.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A system installation with its extensions ({@code --pg-bin}): Debian's PostgreSQL 15 with PostGIS,
 * which .ci/run installs (postgresql-15, postgresql-15-postgis-3). Elsewhere the test is skipped, except
 * in CI, where a skip would hide a failure.
 */
class SystemPostgresTest {

    private static final Path DEBIAN_15 = Path.of("/usr/lib/postgresql/15/bin");

    @Test
    void postgisMadeOnMainIsQueriedOnABranchThroughTheProxy() throws Exception {
        boolean installed = Files.isExecutable(DEBIAN_15.resolve("postgres"))
                && Files.exists(Path.of("/usr/share/postgresql/15/extension/postgis.control"));
        if (System.getenv("CI") == null) {
            assumeTrue(installed, "Debian's PostgreSQL 15 with PostGIS is not installed (apt-get install postgresql-15-postgis-3)");
        } else {
            assertThat(installed).as(".ci/run installs postgresql-15-postgis-3").isTrue();
        }
        try (Zenith z = Zenith.empty()) {
            Zenith.Result mismatch = z.init("--pg-bin", DEBIAN_15.toString(), "--pg-version", "16");
            assertThat(mismatch.exit()).isEqualTo(2);
            assertThat(mismatch.err()).contains("is PostgreSQL 15.").contains("runs PostgreSQL 16");

            z.init("--pg-bin", DEBIAN_15.toString()).ok();
            z.cli("pageserver", "start").ok();
            try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION postgis");
                s.execute("CREATE TABLE places (name text, geom geometry(Point, 4326))");
                s.execute("INSERT INTO places VALUES ('Helsinki', ST_SetSRID(ST_MakePoint(24.94, 60.17), 4326)),"
                        + " ('Tallinn', ST_SetSRID(ST_MakePoint(24.75, 59.44), 4326))");
            }
            z.cli("branch", "maps", "main").ok();
            try (Connection c = z.connectProxy("maps"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT ST_AsText(a.geom), round(ST_DistanceSphere(a.geom, b.geom) / 1000)"
                         + " FROM places a, places b WHERE a.name = 'Helsinki' AND b.name = 'Tallinn'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("POINT(24.94 60.17)");
                assertThat(rs.getLong(2)).as("km from Helsinki to Tallinn").isBetween(75L, 90L);
            }
            assertThat(z.cli("status").ok().out()).contains("PostgreSQL 15.");
        }
    }
}
