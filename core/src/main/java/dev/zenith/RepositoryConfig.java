package dev.zenith;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code config.json}: settings chosen at {@code zenith init}, editable by hand. Fields missing from an
 * older file take their defaults. Durations and modes are parsed once, as the file is read, so a bad value
 * is refused there, naming its field, and every use gets a typed value. {@link Builder} makes one in code.
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
 * @param auth            how computes authenticate clients; the proxy may listen beyond loopback only with
 *                        {@link AuthMode#PASSWORD}
 * @param walCompression  Postgres's {@code wal_compression} on every compute
 * @param pgVersion       the PostgreSQL major version every branch runs (15 to 18), recorded at init from the
 *                        binaries it used; 0 in repositories made before zenith recorded it (the bundled 18
 *                        unless {@code pgBin} says otherwise)
 * @param maxLogMb        the size at which a log (the daemon's, each compute's) rolls over to {@code .1}; three
 *                        older generations are kept, so each log takes at most four times this (10)
 * @param proxyHttpOrigins origins of web pages allowed to call the proxy's SQL over HTTP and WebSocket
 *                        endpoints ({@code "http://localhost:3000"}, or {@code "*"}); none by default, so a
 *                        page in the user's browser cannot reach a branch
 * @param metricsPublic   serve {@code /metrics} to anyone on this machine (a Prometheus without the API
 *                        token); off by default, since branch names are in them
 * @param spareDiskMb     on a file system that writes every copy (ext4), what the spare copies of images made
 *                        ahead of new branches may hold, in MiB: 0 (the default) a tenth of the free space. Where
 *                        copies are clones, spares cost next to nothing and the size does not apply. -1: no spares
 *                        at all, neither copies nor the standby spare, on any file system
 */
public record RepositoryConfig(int apiPort, int computePortBase, String pgBin, String osUser, String superuser,
                               int proxyPort, String proxyAddress, List<String> proxySocketDirs,
                               IdleTimeout idleTimeout, int maxComputes, Interval proxyStartupTimeout,
                               IdleTimeout readOnlyIdleTimeout, Interval retention,
                               int imageWalThresholdMb, int imageAtStopMb, Interval gcInterval, Interval housekeepingInterval,
                               boolean proxyTls, AuthMode auth, WalCompression walCompression, int pgVersion, int maxLogMb,
                               List<String> proxyHttpOrigins, boolean metricsPublic, int spareDiskMb) {

    /**
     * Reads {@code config.json}, where a setting added by a later zenith is missing from an older file:
     * a missing number or flag reads as 0 or false, which every setting takes as its default. Elsewhere
     * the JSON mapper refuses nulls for numbers.
     */
    public static RepositoryConfig read(Path file) {
        try {
            return Json.MAPPER.readerFor(RepositoryConfig.class)
                    .without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).readValue(file.toFile());
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                String field = e.getPath().stream().map(JsonMappingException.Reference::getFieldName)
                        .filter(java.util.Objects::nonNull).collect(Collectors.joining("."));
                throw new ZenithException(ZenithException.Kind.FAILED, "config.json's " + field + " is not valid: "
                        + bad.getMessage(), "correct it in " + file);
            }
            throw new UncheckedIOException("cannot read " + file + ": " + e.getOriginalMessage(), e);
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
    public static final String DEFAULT_AUTH = "trust";
    public static final String DEFAULT_WAL_COMPRESSION = "pglz";
    public static final int DEFAULT_MAX_LOG_MB = 10;
    public static final int BUNDLED_PG_VERSION = 18;
    /** The majors zenith runs: 14 reached its end of life in November 2026. */
    public static final List<Integer> PG_VERSIONS = List.of(15, 16, 17, 18);

    public RepositoryConfig {
        apiPort = apiPort == 0 ? DEFAULT_API_PORT : apiPort;
        computePortBase = computePortBase == 0 ? DEFAULT_COMPUTE_PORT_BASE : computePortBase;
        proxyPort = proxyPort == 0 ? DEFAULT_PROXY_PORT : proxyPort;
        proxyAddress = proxyAddress == null ? DEFAULT_PROXY_ADDRESS : proxyAddress;
        proxySocketDirs = proxySocketDirs == null ? DEFAULT_PROXY_SOCKET_DIRS : List.copyOf(proxySocketDirs);
        idleTimeout = idleTimeout == null ? IdleTimeout.parse(DEFAULT_IDLE_TIMEOUT) : idleTimeout;
        maxComputes = maxComputes == 0 ? DEFAULT_MAX_COMPUTES : maxComputes;
        if (maxComputes < 1) {
            throw new IllegalArgumentException("invalid maxComputes " + maxComputes + ": use 1 or more");
        }
        proxyStartupTimeout = proxyStartupTimeout == null ? Interval.parse(DEFAULT_PROXY_STARTUP_TIMEOUT) : proxyStartupTimeout;
        readOnlyIdleTimeout = readOnlyIdleTimeout == null ? IdleTimeout.parse(DEFAULT_READ_ONLY_IDLE_TIMEOUT) : readOnlyIdleTimeout;
        retention = retention == null ? Interval.parse(DEFAULT_RETENTION) : retention;
        imageWalThresholdMb = imageWalThresholdMb == 0 ? DEFAULT_IMAGE_WAL_THRESHOLD_MB : imageWalThresholdMb;
        if (imageAtStopMb < 0) {
            throw new IllegalArgumentException("invalid imageAtStopMb " + imageAtStopMb + ": use 0 (the default) or a size in MiB");
        }
        gcInterval = gcInterval == null ? Interval.parse(DEFAULT_GC_INTERVAL) : gcInterval;
        housekeepingInterval = housekeepingInterval == null ? Interval.parse(DEFAULT_HOUSEKEEPING_INTERVAL) : housekeepingInterval;
        auth = auth == null ? AuthMode.parse(DEFAULT_AUTH) : auth;
        walCompression = walCompression == null ? WalCompression.parse(DEFAULT_WAL_COMPRESSION) : walCompression;
        if (pgVersion != 0 && !PG_VERSIONS.contains(pgVersion)) {
            throw new IllegalArgumentException("PostgreSQL " + pgVersion + " is not one zenith runs: use "
                    + PG_VERSIONS.stream().map(String::valueOf).collect(Collectors.joining(", "))
                    + (pgVersion < PG_VERSIONS.get(0) ? " (" + pgVersion + " has reached its end of life)" : ""));
        }
        maxLogMb = maxLogMb == 0 ? DEFAULT_MAX_LOG_MB : maxLogMb;
        if (maxLogMb < 0) {
            throw new IllegalArgumentException("invalid maxLogMb " + maxLogMb + ": use a size in MiB, 1 or more");
        }
        if (spareDiskMb < -1) {
            throw new IllegalArgumentException("invalid spareDiskMb " + spareDiskMb
                    + ": use a size in MiB, 0 (the default: a tenth of the free space) or -1 (no spares)");
        }
        proxyHttpOrigins = proxyHttpOrigins == null ? List.of() : List.copyOf(proxyHttpOrigins);
        for (String origin : proxyHttpOrigins) {
            if (!origin.equals("*") && !origin.matches("https?://[^/\\s]+")) {
                throw new IllegalArgumentException("invalid origin \"" + origin + "\" in proxyHttpOrigins: write it as a browser sends it,"
                        + " scheme and host without a path (\"http://localhost:3000\"), or \"*\" for any");
            }
        }
    }

    /** Every setting at its default. */
    public static Builder defaults() {
        return new Builder();
    }

    /** A builder holding these settings, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.apiPort = apiPort;
        b.computePortBase = computePortBase;
        b.pgBin = pgBin;
        b.osUser = osUser;
        b.superuser = superuser;
        b.proxyPort = proxyPort;
        b.proxyAddress = proxyAddress;
        b.proxySocketDirs = proxySocketDirs;
        b.idleTimeout = idleTimeout;
        b.maxComputes = maxComputes;
        b.proxyStartupTimeout = proxyStartupTimeout;
        b.readOnlyIdleTimeout = readOnlyIdleTimeout;
        b.retention = retention;
        b.imageWalThresholdMb = imageWalThresholdMb;
        b.imageAtStopMb = imageAtStopMb;
        b.gcInterval = gcInterval;
        b.housekeepingInterval = housekeepingInterval;
        b.proxyTls = proxyTls;
        b.auth = auth;
        b.walCompression = walCompression;
        b.pgVersion = pgVersion;
        b.maxLogMb = maxLogMb;
        b.proxyHttpOrigins = proxyHttpOrigins;
        b.metricsPublic = metricsPublic;
        b.spareDiskMb = spareDiskMb;
        return b;
    }

    /** How long a client may take to send its startup message; {@code never} waits a day. */
    public Duration proxyStartupDeadline() {
        return proxyStartupTimeout.orElse(Duration.ofDays(1));
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
        if (!loopback && auth != AuthMode.PASSWORD) {
            throw new ZenithException(ZenithException.Kind.BAD_REQUEST, "the proxy would listen on "
                    + proxyAddress + ", beyond this machine, while computes let anyone in without a password (auth = trust)",
                    "turn on passwords first: zenith auth password (SCRAM), or keep proxyAddress 127.0.0.1");
        }
    }

    public boolean passwordAuth() {
        return auth == AuthMode.PASSWORD;
    }

    /** Spares made ahead of new branches, copies and the standby alike; {@code spareDiskMb} -1 turns them off. */
    public boolean keepsSpares() {
        return spareDiskMb != -1;
    }

    /** Settings to change by name, then {@link #build()}; what is not set keeps its default (or the value it was built from). */
    public static final class Builder {
        private int apiPort;
        private int computePortBase;
        private String pgBin;
        private String osUser;
        private String superuser;
        private int proxyPort;
        private String proxyAddress;
        private List<String> proxySocketDirs;
        private IdleTimeout idleTimeout;
        private int maxComputes;
        private Interval proxyStartupTimeout;
        private IdleTimeout readOnlyIdleTimeout;
        private Interval retention;
        private int imageWalThresholdMb;
        private int imageAtStopMb;
        private Interval gcInterval;
        private Interval housekeepingInterval;
        private boolean proxyTls;
        private AuthMode auth;
        private WalCompression walCompression;
        private int pgVersion;
        private int maxLogMb;
        private int spareDiskMb;
        private List<String> proxyHttpOrigins;
        private boolean metricsPublic;

        private Builder() {
        }

        public Builder apiPort(int port) {
            this.apiPort = port;
            return this;
        }

        public Builder computePortBase(int port) {
            this.computePortBase = port;
            return this;
        }

        public Builder pgBin(String dir) {
            this.pgBin = dir;
            return this;
        }

        public Builder osUser(String name) {
            this.osUser = name;
            return this;
        }

        public Builder superuser(String name) {
            this.superuser = name;
            return this;
        }

        public Builder proxyPort(int port) {
            this.proxyPort = port;
            return this;
        }

        public Builder proxyAddress(String address) {
            this.proxyAddress = address;
            return this;
        }

        public Builder proxySocketDirs(List<String> dirs) {
            this.proxySocketDirs = dirs;
            return this;
        }

        public Builder idleTimeout(IdleTimeout timeout) {
            this.idleTimeout = timeout;
            return this;
        }

        public Builder maxComputes(int n) {
            this.maxComputes = n;
            return this;
        }

        public Builder retention(Interval window) {
            this.retention = window;
            return this;
        }

        public Builder imageAtStopMb(int mb) {
            this.imageAtStopMb = mb;
            return this;
        }

        public Builder proxyTls(boolean on) {
            this.proxyTls = on;
            return this;
        }

        public Builder auth(AuthMode mode) {
            this.auth = mode;
            return this;
        }

        public Builder walCompression(WalCompression compression) {
            this.walCompression = compression;
            return this;
        }

        public Builder spareDiskMb(int mb) {
            this.spareDiskMb = mb;
            return this;
        }

        public Builder pgVersion(int major) {
            this.pgVersion = major;
            return this;
        }

        /** The settings; an invalid one is an {@link IllegalArgumentException} naming it. */
        public RepositoryConfig build() {
            return new RepositoryConfig(apiPort, computePortBase, pgBin, osUser, superuser, proxyPort, proxyAddress,
                    proxySocketDirs, idleTimeout, maxComputes, proxyStartupTimeout, readOnlyIdleTimeout, retention,
                    imageWalThresholdMb, imageAtStopMb, gcInterval, housekeepingInterval, proxyTls, auth, walCompression,
                    pgVersion, maxLogMb, proxyHttpOrigins, metricsPublic, spareDiskMb);
        }
    }
}
