package dev.zenith.compute;

import dev.zenith.AuthMode;
import dev.zenith.WalCompression;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.storage.Image;
import dev.zenith.storage.RecoveryPlan;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What zenith writes into a data directory before a start, per mode and recovery plan. */
class PostgresConfigTest {

    private static final Path SOCKETS = Path.of("/repo/sockets");
    private static final Path ARCHIVE = Path.of("/repo/timelines/t1/wal");
    private static final Path RESTORE = Path.of("/repo/restore/pg1");
    private static final PostgresConfig.WalSettings WRITE = new PostgresConfig.WalSettings(FileCopies.WRITE, WalCompression.PGLZ);
    private static final PostgresConfig.WalSettings CLONE = new PostgresConfig.WalSettings(FileCopies.CLONE, WalCompression.PGLZ);
    private static final ComputeMode READ_ONLY = new ComputeMode.ReadOnly(new WalPoint(Lsn.parse("0/3000000"), 1));

    private static RecoveryPlan plan(String stopBefore) {
        return new RecoveryPlan(new Image(Lsn.parse("0/1000028"), 1, Path.of("/repo/images/x")),
                Optional.ofNullable(stopBefore).map(Lsn::parse), List.of());
    }

    @Test
    void aReadWriteComputeListensOnLoopbackAndArchivesIntoItsTimeline() {
        String conf = PostgresConfig.zenithConf(55432, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE, WRITE);
        assertThat(conf).contains("listen_addresses = '127.0.0.1'\n", "port = 55432\n",
                "unix_socket_directories = '/repo/sockets'\n", "fsync = on\n", "wal_recycle = off\n", "archive_mode = on\n",
                "archive_library = 'basic_archive'\n", "basic_archive.archive_directory = '/repo/timelines/t1/wal'\n");
        assertThat(conf).doesNotContain("restore_command", "recovery_target");
        if (dev.zenith.postgres.PgDistribution.isLinux()) {
            // a start after a crash or from a copied image syncs its file system once, not file by file
            assertThat(conf).contains("recovery_init_sync_method = syncfs\n");
        }
    }

    @Test
    void aReadOnlyViewArchivesNothing() {
        String conf = PostgresConfig.zenithConf(55433, SOCKETS, READ_ONLY, ARCHIVE, plan("0/3000000"), RESTORE, WRITE);
        assertThat(conf).doesNotContain("archive_mode", "basic_archive");
    }

    @Test
    void aPlanThatStopsSetsAnExclusiveLsnTarget() {
        String conf = PostgresConfig.zenithConf(55432, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, plan("0/3000000"), RESTORE, WRITE);
        String cp = PgDistribution.isLinux() ? "cp --reflink=auto" : "cp";
        assertThat(conf).contains("restore_command = '[ -f \"/repo/restore/pg1/%f\" ] && " + cp + " \"/repo/restore/pg1/%f\" \"%p\"'\n",
                "recovery_target_timeline = 'latest'\n", "recovery_target_lsn = '0/3000000'\n",
                "recovery_target_inclusive = off\n");
    }

    @Test
    void aPlanToTheEndSetsNoTarget() {
        String conf = PostgresConfig.zenithConf(55432, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, plan(null), RESTORE, WRITE);
        assertThat(conf).contains("restore_command").doesNotContain("recovery_target_lsn", "recovery_target_inclusive");
    }

    @Test
    void everyComputePausesAtItsTargetForTheDaemonToPromote() {
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, plan("0/3000000"), RESTORE, WRITE))
                .contains("recovery_target_action = 'pause'\n").doesNotContain("'promote'");
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, READ_ONLY, ARCHIVE, plan("0/3000000"), RESTORE, WRITE))
                .contains("recovery_target_action = 'pause'\n");
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, plan(null), RESTORE, WRITE))
                .as("recovery to the end of WAL has no target to act at").doesNotContain("recovery_target_action");
    }

    @Test
    void onAFileSystemThatClonesNewWalSegmentsAreSparse() {
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE, CLONE))
                .contains("wal_init_zero = off\n");
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE, WRITE))
                .doesNotContain("wal_init_zero");
    }

    @Test
    void fullPageImagesAreCompressedAsTheRepositorySays() {
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE, WRITE))
                .contains("wal_compression = pglz\n");
        assertThat(PostgresConfig.zenithConf(1, SOCKETS, ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE,
                new PostgresConfig.WalSettings(FileCopies.WRITE, WalCompression.OFF))).contains("wal_compression = off\n");
    }

    @Test
    void whereTheFileSystemClonesWalIsArchivedByReflinkWithBasicArchivesGuarantees() {
        String conf = PostgresConfig.archiving("/repo/wal", FileCopies.CLONE);
        if (PgDistribution.isLinux()) {
            assertThat(conf).startsWith("archive_command = 'if [ -f \"/repo/wal/%f\" ]; then cmp -s \"%p\" \"/repo/wal/%f\";")
                    .contains("cp --reflink=auto \"%p\" \"/repo/wal/%f.tmp\" && sync \"/repo/wal/%f.tmp\"")
                    .contains("mv \"/repo/wal/%f.tmp\" \"/repo/wal/%f\" && sync \"/repo/wal\"; fi'")
                    .doesNotContain("basic_archive");
        }
        assertThat(PostgresConfig.archiving("/repo/wal", FileCopies.WRITE))
                .isEqualTo("archive_library = 'basic_archive'\nbasic_archive.archive_directory = '/repo/wal'\n");
        assertThat(PostgresConfig.archiving("/repo/$HOME/wal", FileCopies.CLONE)).as("a path the shell would expand")
                .startsWith("archive_library = 'basic_archive'");
    }

    @Test
    void quotesInPathsAreDoubled() {
        String conf = PostgresConfig.zenithConf(1, Path.of("/it's/sockets"), ComputeMode.READ_WRITE, ARCHIVE, null, RESTORE, WRITE);
        assertThat(conf).contains("unix_socket_directories = '/it''s/sockets'\n");
    }

    @Test
    void hbaAppliesItsMethodsToSocketsAndLoopbackOnly() {
        String hba = PostgresConfig.hba(AuthMode.PASSWORD, PostgresConfig.Access.PASSWORD);
        assertThat(hba.lines().filter(l -> !l.startsWith("#"))).containsExactly(
                "local all all scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256", "host all all ::1/128 scram-sha-256",
                "local replication all scram-sha-256", "host replication all 127.0.0.1/32 scram-sha-256",
                "host replication all ::1/128 scram-sha-256");
        assertThat(PostgresConfig.hba(AuthMode.TRUST, PostgresConfig.Access.TRUST)).contains("(auth = trust", "local all all trust");
        assertThat(PostgresConfig.hba(AuthMode.PASSWORD, PostgresConfig.Access.OWNER_SOCKET).lines().filter(l -> !l.startsWith("#")))
                .contains("local all all trust", "host all all 127.0.0.1/32 scram-sha-256", "host all all ::1/128 scram-sha-256");
    }

    @Test
    void inPasswordModeLoopbackAsksForThePasswordFromTheFirstMoment() {
        assertThat(PostgresConfig.startingAccess(AuthMode.TRUST, ComputeMode.READ_WRITE)).isEqualTo(PostgresConfig.Access.TRUST);
        assertThat(PostgresConfig.startingAccess(AuthMode.TRUST, READ_ONLY)).isEqualTo(PostgresConfig.Access.TRUST);
        assertThat(PostgresConfig.startingAccess(AuthMode.PASSWORD, ComputeMode.READ_WRITE)).isEqualTo(PostgresConfig.Access.OWNER_SOCKET);
        assertThat(PostgresConfig.startingAccess(AuthMode.PASSWORD, READ_ONLY)).isEqualTo(PostgresConfig.Access.PASSWORD);
    }
}
