package dev.zenith;

import com.fasterxml.jackson.databind.DeserializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code config.json}: settings chosen at {@code zenith init}, editable by hand. Fields missing from an
 * older file take their defaults.
 *
 * @param apiPort         the management API's port on 127.0.0.1
 * @param computePortBase the first port {@code zenith pg create} tries
 * @param pgBin           a system PostgreSQL's bin directory, or null for the bundled binaries
 * @param osUser          the OS user Postgres runs as when zenith runs as root, or null for the default
 * @param superuser       the Postgres superuser initdb created: the name of the OS user who ran init,
 *                        so that psql connects without a user name, as with a local Postgres
 * @param proxyPort       the proxy's port: where clients connect, naming a branch
 * @param proxyAddress    the address the proxy's TCP listener binds
 * @param proxySocketDirs directories for the proxy's Unix sockets ({@code .s.PGSQL.<port>}); those that
 *                        do not exist are skipped
 * @param idleTimeout     how long a compute started on demand may have no client before it is
 *                        suspended: {@code 300s}, {@code 5m}, {@code 0} (at the last disconnect), {@code never}
 * @param maxComputes     how many computes may run at once
 * @param proxyStartupTimeout how long a client may take to send its startup message ({@code 10s})
 * @param readOnlyIdleTimeout idle timeout of read-only views of the past ({@code branch=main@LSN}): {@code 30s}
 * @param retention       how far back every branch's history stays available ({@code 24h})
 * @param imageWalThresholdMb a new image is made when a running compute has this much WAL since the newest one (256)
 * @param imageAtStopMb   a cleanly stopped compute becomes an image when it wrote this much WAL since the last one
 *                        (0: 16 where the file system clones, else a quarter of the database's size, from 16 up
 *                        to {@code imageWalThresholdMb})
 * @param gcInterval      how often the daemon collects garbage ({@code 1h})
 * @param housekeepingInterval how often the daemon checks whether images or GC are due ({@code 30s})
 * @param proxyTls        offer TLS on the proxy's TCP port with a self-signed certificate kept in
 *                        {@code tls/}, so {@code sslmode=require} works
 * @param auth            how computes authenticate clients: {@code trust} (a local Postgres's default:
 *                        loopback only) or {@code password} (SCRAM, with the password in {@code .zenith/password});
 *                        the proxy may listen beyond loopback only with {@code password}
 * @param walCompression  Postgres's {@code wal_compression} on every compute: {@code pglz} (the default; full-page
 *                        images in the WAL every branch keeps for time travel shrink about 4x), {@code off},
 *                        or {@code lz4}/{@code zstd} with a Postgres built with them ({@code pgBin})
 * @param pgVersion       the PostgreSQL major version every branch runs (15 to 18), recorded at init from the
 *                        binaries it used; 0 in repositories made before zenith recorded it (the bundled 18
 *                        unless {@code pgBin} says otherwise)
 */
public record RepositoryConfig(int apiPort, int computePortBase, String pgBin, String osUser, String superuser,
                               int proxyPort, String proxyAddress, List<String> proxySocketDirs,
                               String idleTimeout, int maxComputes, String proxyStartupTimeout, String readOnlyIdleTimeout, String retention,
                               int imageWalThresholdMb, int imageAtStopMb, String gcInterval, String housekeepingInterval,
                               boolean proxyTls, String auth, String walCompression, int pgVersion) {

    /**
     * Reads {@code config.json}, where a setting added by a later zenith is missing from an older file:
     * a missing number or flag reads as 0 or false, which every setting takes as its default. Elsewhere
     * the JSON mapper refuses nulls for numbers.
     */
    public static RepositoryConfig read(Path file) {
        try {
            return Json.MAPPER.readerFor(RepositoryConfig.class)
                    .without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).readValue(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static final int DEFAULT_API_PORT = 64000;
    /** The OS user Postgres runs as when zenith runs as root: present on every Linux system and owns nothing. */
    public static final String DEFAULT_OS_USER_AS_ROOT = "nobody";
    public static final int DEFAULT_COMPUTE_PORT_BASE = 55432;
    public static final int DEFAULT_PROXY_PORT = 5432;
    public static final String DEFAULT_PROXY_ADDRESS = "127.0.0.1";
    public static final List<String> DEFAULT_PROXY_SOCKET_DIRS = List.of("/tmp", "/var/run/postgresql");
    public static final String DEFAULT_IDLE_TIMEOUT = "300s";
    public static final int DEFAULT_MAX_COMPUTES = 8;
    public static final String DEFAULT_PROXY_STARTUP_TIMEOUT = "10s";
    public static final String DEFAULT_READ_ONLY_IDLE_TIMEOUT = "30s";
    public static final String DEFAULT_RETENTION = "24h";
    public static final int DEFAULT_IMAGE_WAL_THRESHOLD_MB = 256;
    public static final String DEFAULT_GC_INTERVAL = "1h";
    public static final String DEFAULT_HOUSEKEEPING_INTERVAL = "30s";
    public static final String AUTH_TRUST = "trust";
    public static final String AUTH_PASSWORD = "password";
    public static final String DEFAULT_WAL_COMPRESSION = "pglz";
    private static final List<String> WAL_COMPRESSIONS = List.of("off", "pglz", "lz4", "zstd");
    public static final int BUNDLED_PG_VERSION = 18;
    /** The majors zenith runs: 14 reached its end of life in November 2026. */
    public static final List<Integer> PG_VERSIONS = List.of(15, 16, 17, 18);

    public RepositoryConfig {
        apiPort = apiPort == 0 ? DEFAULT_API_PORT : apiPort;
        computePortBase = computePortBase == 0 ? DEFAULT_COMPUTE_PORT_BASE : computePortBase;
        proxyPort = proxyPort == 0 ? DEFAULT_PROXY_PORT : proxyPort;
        proxyAddress = proxyAddress == null ? DEFAULT_PROXY_ADDRESS : proxyAddress;
        proxySocketDirs = proxySocketDirs == null ? DEFAULT_PROXY_SOCKET_DIRS : List.copyOf(proxySocketDirs);
        idleTimeout = idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout;
        maxComputes = maxComputes == 0 ? DEFAULT_MAX_COMPUTES : maxComputes;
        proxyStartupTimeout = proxyStartupTimeout == null ? DEFAULT_PROXY_STARTUP_TIMEOUT : proxyStartupTimeout;
        readOnlyIdleTimeout = readOnlyIdleTimeout == null ? DEFAULT_READ_ONLY_IDLE_TIMEOUT : readOnlyIdleTimeout;
        retention = retention == null ? DEFAULT_RETENTION : retention;
        imageWalThresholdMb = imageWalThresholdMb == 0 ? DEFAULT_IMAGE_WAL_THRESHOLD_MB : imageWalThresholdMb;
        if (imageAtStopMb < 0) {
            throw new IllegalArgumentException("invalid imageAtStopMb " + imageAtStopMb + ": use 0 (the default) or a size in MiB");
        }
        gcInterval = gcInterval == null ? DEFAULT_GC_INTERVAL : gcInterval;
        housekeepingInterval = housekeepingInterval == null ? DEFAULT_HOUSEKEEPING_INTERVAL : housekeepingInterval;
        auth = auth == null ? AUTH_TRUST : auth;
        if (!auth.equals(AUTH_TRUST) && !auth.equals(AUTH_PASSWORD)) {
            throw new IllegalArgumentException("invalid auth \"" + BranchName.printable(auth)
                    + "\": use trust or password");
        }
        walCompression = walCompression == null ? DEFAULT_WAL_COMPRESSION : walCompression;
        if (!WAL_COMPRESSIONS.contains(walCompression)) {
            throw new IllegalArgumentException("invalid walCompression \"" + BranchName.printable(walCompression)
                    + "\": use " + String.join(", ", WAL_COMPRESSIONS));
        }
        if (pgVersion != 0 && !PG_VERSIONS.contains(pgVersion)) {
            throw new IllegalArgumentException("PostgreSQL " + pgVersion + " is not one zenith runs: use "
                    + PG_VERSIONS.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))
                    + (pgVersion < PG_VERSIONS.get(0) ? " (" + pgVersion + " has reached its end of life)" : ""));
        }
    }

    /**
     * The proxy reaches every branch as the superuser; beyond loopback anyone on the network could, so
     * listening there needs computes that ask for a password.
     */
    public void checkExposure() {
        boolean loopback;
        try {
            loopback = java.net.InetAddress.getByName(proxyAddress).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            throw ZenithException.badRequest("invalid proxy address \"" + BranchName.printable(proxyAddress)
                    + "\": " + e.getMessage());
        }
        if (!loopback && !passwordAuth()) {
            throw new ZenithException(ZenithException.Kind.BAD_REQUEST, "the proxy would listen on "
                    + proxyAddress + ", beyond this machine, while computes let anyone in without a password (auth = trust)",
                    "turn on passwords first: zenith auth password (SCRAM), or keep proxyAddress 127.0.0.1");
        }
    }

    public boolean passwordAuth() {
        return auth.equals(AUTH_PASSWORD);
    }

    /** These settings with another authentication mode. */
    public RepositoryConfig withAuth(String mode) {
        return new RepositoryConfig(apiPort, computePortBase, pgBin, osUser, superuser, proxyPort, proxyAddress,
                proxySocketDirs, idleTimeout, maxComputes, proxyStartupTimeout, readOnlyIdleTimeout, retention,
                imageWalThresholdMb, imageAtStopMb, gcInterval, housekeepingInterval, proxyTls, mode, walCompression, pgVersion);
    }

    /** These settings with the proxy's port and TLS changed for one run of the daemon. */
    public RepositoryConfig withProxy(int port, boolean tls) {
        return new RepositoryConfig(apiPort, computePortBase, pgBin, osUser, superuser, port, proxyAddress,
                proxySocketDirs, idleTimeout, maxComputes, proxyStartupTimeout, readOnlyIdleTimeout, retention,
                imageWalThresholdMb, imageAtStopMb, gcInterval, housekeepingInterval, tls, auth, walCompression, pgVersion);
    }

    /** These settings recording the PostgreSQL major version the repository was made with. */
    public RepositoryConfig withPgVersion(int major) {
        return new RepositoryConfig(apiPort, computePortBase, pgBin, osUser, superuser, proxyPort, proxyAddress,
                proxySocketDirs, idleTimeout, maxComputes, proxyStartupTimeout, readOnlyIdleTimeout, retention,
                imageWalThresholdMb, imageAtStopMb, gcInterval, housekeepingInterval, proxyTls, auth, walCompression, major);
    }
}
