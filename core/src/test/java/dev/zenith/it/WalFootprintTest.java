package dev.zenith.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;


import static org.assertj.core.api.Assertions.assertThat;

/** The WAL a branch keeps: once, in its timeline's archive, not again in its compute's data directory. */
class WalFootprintTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    @Test
    void aComputeKeepsNoRecycledWalBesideTheArchive() throws Exception {
        z.cli("branch", "busy", "main").ok();
        int port = z.start("busy");
        z.execute(port, "CREATE TABLE filler (x text)");
        for (int round = 0; round < 6; round++) {
            // about 16 MB of WAL a round, each ending in a checkpoint that frees the segments before it
            z.execute(port, "INSERT INTO filler SELECT repeat(md5(g::text), 32) FROM generate_series(1, 12000) g", "CHECKPOINT");
        }
        z.execute(port, "SELECT pg_switch_wal()");
        z.awaitArchived(port);
        z.execute(port, "CHECKPOINT");
        long archived = z.queryLong(port, "SELECT archived_count FROM pg_stat_archiver");
        long inPgWal = z.queryLong(port, "SELECT coalesce(sum(size), 0) FROM pg_ls_waldir()");
        assertThat(archived).as("segments archived").isGreaterThanOrEqualTo(5);
        // with wal_recycle on, Postgres keeps min_wal_size (80 MB by default) of old segments renamed for reuse
        assertThat(inPgWal).as("bytes in pg_wal").isLessThanOrEqualTo(48L << 20);
    }
}
