package dev.zenith.compute;

import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.AtomicFiles;
import dev.zenith.AuthMode;
import dev.zenith.WalCompression;
import dev.zenith.storage.RecoveryPlan;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What zenith writes into a compute's data directory before every start: {@code zenith.conf} (included
 * from {@code postgresql.conf}; port, socket, archiving into the timeline, the recovery target) and
 * {@code pg_hba.conf} (trust or SCRAM, loopback only). The user's own settings stay in postgresql.conf.
 */
final class PostgresConfig {

    static final String FILE = "zenith.conf";

    /** How pg_hba.conf lets clients in. */
    private enum HbaMethod {
        TRUST("trust"),
        SCRAM("scram-sha-256");

        private final String keyword;

        HbaMethod(String keyword) {
            this.keyword = keyword;
        }
    }

    /** How the repository keeps WAL, the same for every compute: how its file system copies, and the compression. */
    record WalSettings(FileCopies copies, WalCompression compression) {
    }

    private final OsUser user;

    PostgresConfig(OsUser user) {
        this.user = user;
    }

    /** Who {@code pg_hba.conf} lets in through the compute's Unix socket and through loopback TCP. */
    enum Access {
        /** A local Postgres's default: both trust. */
        TRUST(HbaMethod.TRUST, HbaMethod.TRUST),
        /** Both ask for the password (SCRAM). */
        PASSWORD(HbaMethod.SCRAM, HbaMethod.SCRAM),
        /**
         * The socket trusts and loopback asks for the password: only the repository's owner and Postgres
         * may enter the sockets directory, so only zenith gets in without the password, to set it.
         */
        OWNER_SOCKET(HbaMethod.TRUST, HbaMethod.SCRAM);

        private final HbaMethod socket;
        private final HbaMethod loopback;

        Access(HbaMethod socket, HbaMethod loopback) {
            this.socket = socket;
            this.loopback = loopback;
        }
    }

    /**
     * What a compute starts with. In password mode no moment trusts loopback: a read-write compute trusts
     * its owner's socket until the daemon has set the repository's password and switched it to
     * {@link Access#PASSWORD} ({@link PasswordSwitch}; branches made before the switch to password mode
     * have a superuser without one). A read-only view cannot be written to, so it requires the password
     * its point in history has.
     */
    static Access startingAccess(AuthMode auth, ComputeMode mode) {
        if (auth != AuthMode.PASSWORD) {
            return Access.TRUST;
        }
        return mode.isReadOnly() ? Access.PASSWORD : Access.OWNER_SOCKET;
    }

    /** {@code zenith.conf}; {@code plan} is null when the data directory has nothing left to recover. */
    static String zenithConf(int port, Path socketsDir, ComputeMode mode, Path archiveDir, RecoveryPlan plan, Path restoreDir,
                             WalSettings wal) {
        StringBuilder conf = new StringBuilder()
                .append("# Written by zenith before every start; put your own settings in postgresql.conf.\n")
                .append("listen_addresses = '127.0.0.1'\n")
                .append("port = ").append(port).append('\n')
                .append("unix_socket_directories = ").append(ComputeSql.quote(socketsDir.toAbsolutePath().toString())).append('\n')
                .append("fsync = on\n")
                .append("wal_level = replica\n")
                // the archive keeps the WAL: segments renamed for reuse would be a second copy in every data directory
                .append("wal_recycle = off\n")
                .append("min_wal_size = 32MB\n")
                // full-page images are most of the WAL every branch keeps (docs/BENCHMARKS.md has the trade-off)
                .append("wal_compression = ").append(wal.compression()).append('\n');
        if (PgDistribution.isLinux()) {
            // A start after a crash, or from an image copied from a running server, first syncs the whole data
            // directory: file by file that was 0.2 s for a 1 GB branch (and grows with it), one syncfs() 11 ms.
            // The copy came from a synced image, so the sync finds little to write either way.
            conf.append("recovery_init_sync_method = syncfs\n");
        }
        if (wal.copies() == FileCopies.CLONE) {
            // a new segment is a sparse file instead of 16 MB of zeros, as Postgres advises for copy-on-write file systems
            conf.append("wal_init_zero = off\n");
        }
        if (!mode.isReadOnly()) {
            conf.append("archive_mode = on\n").append(archiving(archiveDir.toAbsolutePath().toString(), wal.copies()));
        }
        if (plan != null) {
            // --reflink=auto: a restored segment shares the archive's blocks where the file system clones.
            // The test first: recovery asks for many files that are not there (the next timeline's history,
            // segments past the end), and each would run cp only to print "cannot stat" into the log.
            String restored = "\"" + restoreDir.toAbsolutePath() + "/%f\"";
            conf.append("restore_command = ")
                    .append(ComputeSql.quote("[ -f " + restored + " ] && " + (PgDistribution.isLinux() ? "cp --reflink=auto " : "cp ")
                            + restored + " \"%p\"")).append('\n')
                    .append("recovery_target_timeline = 'latest'\n");
            // At the target a read-only view stays paused; a read-write compute is then promoted by the daemon
            // (a triggered promotion, as pg_ctl promote asks for it), which checkpoints in the background: recovery_target_action = promote would run an
            // end-of-recovery checkpoint the first client waits for.
            plan.stopBefore().ifPresent(lsn -> conf
                    .append("recovery_target_lsn = '").append(lsn).append("'\n")
                    .append("recovery_target_inclusive = off\n")
                    .append("recovery_target_action = 'pause'\n"));
        }
        return conf.toString();
    }

    /**
     * How Postgres archives its WAL into the timeline. {@code basic_archive} copies bytes; where the file
     * system clones, an {@code archive_command} copies by reflink, so a segment the archive shares with
     * {@code pg_wal} (or a sparse {@code .partial}) takes its blocks once. It keeps basic_archive's
     * guarantees: a file already archived with the same contents is success, with other contents a
     * failure; the copy goes to a temporary name, is synced, renamed, and the directory synced. A
     * directory the shell would read specially keeps basic_archive.
     */
    static String archiving(String archiveDir, FileCopies copies) {
        if (copies == FileCopies.CLONE && PgDistribution.isLinux() && archiveDir.chars().noneMatch(c -> "\"$`\\".indexOf(c) >= 0)) {
            String target = "\"" + archiveDir + "/%f\"";
            String temp = "\"" + archiveDir + "/%f.tmp\"";
            return "archive_command = " + ComputeSql.quote("if [ -f " + target + " ]; then cmp -s \"%p\" " + target
                    + "; else cp --reflink=auto \"%p\" " + temp + " && sync " + temp + " && mv " + temp + " " + target
                    + " && sync \"" + archiveDir + "\"; fi") + "\n";
        }
        return "archive_library = 'basic_archive'\nbasic_archive.archive_directory = " + ComputeSql.quote(archiveDir) + "\n";
    }

    /** {@code pg_hba.conf}: every user and database, on the Unix socket and on loopback, as {@code access} says. */
    static String hba(AuthMode authSetting, Access access) {
        StringBuilder hba = new StringBuilder("# Written by zenith before every start (auth = ")
                .append(authSetting).append(" in config.json).\n");
        for (String database : new String[] {"all", "replication"}) {
            hba.append("local ").append(database).append(" all ").append(access.socket.keyword).append('\n')
                    .append("host ").append(database).append(" all 127.0.0.1/32 ").append(access.loopback.keyword).append('\n')
                    .append("host ").append(database).append(" all ::1/128 ").append(access.loopback.keyword).append('\n');
        }
        return hba.toString();
    }

    void writeConf(NodePaths paths, String text) {
        write(paths.dataDir().resolve(FILE), text);
    }

    void writeHba(NodePaths paths, AuthMode authSetting, Access access) {
        write(paths.dataDir().resolve("pg_hba.conf"), hba(authSetting, access));
    }

    /** Writes {@code text} unless the file holds it already: a resume then syncs nothing (a few ms of its start on ext4). */
    private void write(Path file, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            if (Files.isRegularFile(file) && java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
                return;
            }
        } catch (java.io.IOException e) {
            // unreadable: written again below
        }
        AtomicFiles.write(file, bytes);
        user.own(file);
    }
}
