package dev.zenith.it;

import dev.zenith.postgres.OsUser;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The repository's file system runs full while a compute writes and archives WAL: a size-limited
 * tmpfs, made by the test (root only), holds the whole repository. Postgres stops taking writes as it
 * does on a full disk, nothing acknowledged is lost, and once the file system is grown (remounted
 * larger) the next connection through the proxy works and writes go on.
 */
class DiskFullTest {

    @Test
    void aFullDiskStopsWritesLosesNothingAndRecoversWhenSpaceReturns() throws Exception {
        assumeTrue(OsUser.currentUid() == 0, "mounting a small file system needs root");
        try (Mount mount = Mount.tmpfs("200m"); Zenith z = Zenith.in(mount.dir())) {
            z.init().ok();
            z.cli("pageserver", "start").ok();
            try (Ledger ledger = new Ledger(z, () -> z.connectProxy("main"), "ledger")) {
                ledger.startWriting(() -> z.connectProxy("main"));
                AtomicReference<SQLException> fillerStopped = new AtomicReference<>();
                try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE filler (pad text) WITH (toast_tuple_target = 8160)");
                    s.execute("ALTER TABLE filler ALTER COLUMN pad SET STORAGE plain");
                    for (int i = 0; i < 10_000; i++) {
                        s.execute("INSERT INTO filler SELECT repeat(md5(g::text), 200) FROM generate_series(1, 1000) g");
                    }
                } catch (SQLException full) {
                    fillerStopped.set(full);
                }
                assertThat(fillerStopped).as("the filler ran into the full disk").doesNotHaveNullValue();
                ledger.stopWriting();
                int acknowledged = ledger.acknowledged();
                assertThat(acknowledged).isPositive();

                mount.remount("size=2g");
                Zenith.waitFor(Duration.ofSeconds(120), () -> {
                    try {
                        return ledger.lost(() -> z.connectProxy("main")) == 0;
                    } catch (SQLException notYet) {
                        return false; // Postgres may still be restarting after the failed write
                    }
                }, "main to answer again with every acknowledged commit");
                ledger.write(() -> z.connectProxy("main"), 100);
                assertThat(ledger.lost(() -> z.connectProxy("main"))).isZero();
                System.out.println("disk full: filler stopped with " + fillerStopped.get().getSQLState() + " "
                        + fillerStopped.get().getMessage() + "; " + acknowledged + " commits acknowledged before, 0 lost");
            }
        }
    }
}
