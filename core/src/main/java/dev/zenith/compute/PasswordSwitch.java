package dev.zenith.compute;

import dev.zenith.Deadline;
import dev.zenith.AuthMode;
import dev.zenith.ZenithException;

import java.sql.SQLException;
import java.time.Duration;

/**
 * In password mode: sets the repository's password on a freshly started compute's superuser, then
 * makes the compute require it (SCRAM) on its Unix socket too, and waits until it does before anyone is
 * handed the compute. Loopback TCP asks for the password from the compute's first moment; until the
 * switch only the socket trusts, in the repository's sockets directory, which only its owner and
 * Postgres may enter.
 */
final class PasswordSwitch {

    private static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(30);

    private final ComputeSql sql;
    private final PostgresConfig config;
    private final String password;

    PasswordSwitch(ComputeSql sql, PostgresConfig config, String password) {
        this.sql = sql;
        this.config = config;
        this.password = password;
    }

    void apply(ComputeNode node, NodePaths paths) {
        try {
            sql.setPassword(node, password);
            config.writeHba(paths, AuthMode.PASSWORD, PostgresConfig.Access.PASSWORD);
            sql.reloadConfig(node);
        } catch (SQLException e) {
            throw ZenithException.failed("cannot set the password on " + node.name() + ": " + e.getMessage(),
                    "see " + paths.logFile());
        }
        // the postmaster rereads pg_hba.conf when it gets to the signal: wait until a connection without
        // the password is refused
        Deadline deadline = Deadline.in(RELOAD_TIMEOUT);
        while (!refusesWithoutPassword(node, paths)) {
            if (deadline.passed()) {
                throw ZenithException.failed(node.name() + " still accepts connections without a password after reloading"
                        + " pg_hba.conf", "see " + paths.logFile());
            }
            Deadline.pause(Duration.ofMillis(5));
        }
    }

    /**
     * As {@link #apply}, for a compute the daemon adopted running: one whose start went through already
     * requires the password and is left as it is (setting it again would write WAL at every daemon start).
     */
    void ensure(ComputeNode node, NodePaths paths) {
        if (!refusesWithoutPassword(node, paths)) {
            apply(node, paths);
        }
    }

    private boolean refusesWithoutPassword(ComputeNode node, NodePaths paths) {
        try {
            return !sql.admitsWithoutPassword(node);
        } catch (SQLException e) {
            throw ZenithException.failed("cannot check that " + node.name() + " requires the password: " + e.getMessage(),
                    "see " + paths.logFile());
        }
    }
}
