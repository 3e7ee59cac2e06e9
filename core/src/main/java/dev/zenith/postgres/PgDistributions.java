package dev.zenith.postgres;

import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The PostgreSQL binaries a repository's computes run, one installation per major version: the
 * repository's own ({@code pgBin} or zenith's binaries of its {@code pgVersion}) for the branches that
 * grew from main, and for a branch imported from a server of another major version the server of that
 * version this system's packages installed, else zenith's binaries of it. Installed ones come first: they
 * are the build the user chose, with the extensions they added (PostGIS, say) that a copy of their
 * database may use, and were faster (pg_restore of 1 GB into Debian's PostgreSQL 15 took 8.7 to 11.0 s,
 * into zenith's 15 from Maven Central 13.5 to 15.7 s, in turn on one disk). Which one a data directory
 * needs is written in it ({@code PG_VERSION}).
 *
 * <p>Thread-safety: the other versions are resolved once each, in a concurrent map.
 */
public final class PgDistributions {

    private final PgDistribution own;
    private final Consumer<String> progress;
    private final Map<Integer, PgDistribution> others = new ConcurrentHashMap<>();

    public PgDistributions(PgDistribution own, Consumer<String> progress) {
        this.own = own;
        this.progress = progress;
    }

    /** The repository's own installation. */
    public PgDistribution own() {
        return own;
    }

    /** The installation of {@code major}: the repository's own, else an installed one, else zenith's binaries of it, fetched once. */
    public PgDistribution of(int major) {
        if (major == own.major()) {
            return own;
        }
        if (!RepositoryConfig.PG_VERSIONS.contains(major)) {
            throw ZenithException.badRequest("PostgreSQL " + major + " is not one zenith runs: it runs "
                    + RepositoryConfig.PG_VERSIONS);
        }
        return others.computeIfAbsent(major, m -> PgDistribution.installed(m).orElseGet(() -> PgDistribution.resolve(null, m, progress)));
    }

    /** The installation a data directory was made by, as its {@code PG_VERSION} says. */
    public PgDistribution forDataDir(Path dataDir) {
        return of(majorOf(dataDir));
    }

    /** The major version a data directory was made by. */
    public static int majorOf(Path dataDir) {
        Path file = dataDir.resolve("PG_VERSION");
        try {
            return Integer.parseInt(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            throw ZenithException.failed("cannot read the PostgreSQL version of " + dataDir + " from " + file + ": "
                    + e.getMessage(), "check that " + dataDir + " is a PostgreSQL data directory");
        }
    }
}
