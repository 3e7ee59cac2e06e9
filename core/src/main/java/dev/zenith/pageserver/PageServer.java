package dev.zenith.pageserver;

import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.postgres.PgDistributions;
import dev.zenith.Failpoints;
import dev.zenith.PidFile;
import dev.zenith.IdleTimeout;
import dev.zenith.RepositoryConfig;
import dev.zenith.RotatedLog;
import dev.zenith.ZenithException;
import dev.zenith.api.ApiServer;
import dev.zenith.api.ClientCommands;
import dev.zenith.api.ComputesBackend;
import dev.zenith.api.DaemonFacts;
import dev.zenith.compute.ComputeMetrics;
import dev.zenith.compute.Computes;


import dev.zenith.proxy.ProxyServer;
import dev.zenith.storage.Repository;
import dev.zenith.storage.RepositoryFormat;
import dev.zenith.storage.StorageMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The daemon of one repository: holds its lock, owns the computes and serves the API. Its state lives
 * in the repository, so a daemon killed with -9 and started again picks up where the last one was.
 *
 * <p>Thread-safety: its parts are made in the constructor and never replaced; {@code closeLock} makes
 * {@link #close} (from the API's shutdown, a signal, or the foreground command) run once.
 */
public final class PageServer implements AutoCloseable {

    public static final String PID_FILE = "pageserver.pid";
    public static final String LOCK_FILE = "pageserver.lock";
    private static final Duration IDLE_CHECK_INTERVAL = Duration.ofSeconds(1);
    /** How often the console\'s remote states are asked for again (each asks every remote for every branch\'s manifest). */
    private static final Duration REMOTE_STATE_INTERVAL = Duration.ofMinutes(1);
    /** How late past its expiry a branch may be deleted: reading every branch's metadata costs little. */
    private static final Duration EXPIRY_INTERVAL = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(PageServer.class);
    private final Repository repository;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Computes computes;
    private final ProxyServer proxy;
    private final BackgroundTasks background = new BackgroundTasks();
    private final AtomicLong idleChecks = new AtomicLong();
    private final BackgroundTasks.Task idleCheck;
    private final Duration housekeepingInterval;
    private final Duration gcInterval;
    private final ApiServer api;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final java.util.concurrent.locks.ReentrantLock closeLock = new java.util.concurrent.locks.ReentrantLock();

    private PageServer(Repository repository, FileChannel lockChannel, FileLock lock, ClientCommands clientCommands) {
        this.repository = repository;
        this.lockChannel = lockChannel;
        this.lock = lock;
        RepositoryConfig config = repository.config();
        config.checkExposure();
        IdleTimeout idleTimeout = config.idleTimeout();
        PgDistribution dist = PgDistribution.resolve(config.pgBin(), config.pgVersion(), msg -> log.info(msg));
        OsUser user = OsUser.resolve(config.osUser());
        user.checkCanReach(repository.root(), "repository");
        user.closeToOthers(repository.root());
        repository.clearTmp();
        Failpoints.watch(repository.root());
        this.computes = new Computes(repository, new PgDistributions(dist, msg -> log.info(msg)), user);
        ComputeMetrics.register(computes);
        computes.startFollowing();
        StorageMetrics.register(repository);
        // Listeners first: a port in use stops the start before anything else happened.
        this.proxy = new ProxyServer(computes, config.proxyAddress(), config.proxyPort(),
                config.proxySocketDirs().stream().map(Path::of).toList(),
                config.proxyStartupDeadline(),
                config.proxyTls() ? repository.root().resolve("tls") : null, config.proxyHttpOrigins());
        try {
            this.idleCheck = new BackgroundTasks.Task("idle-check", () -> {
                computes.suspendIdle(idleTimeout);
                idleChecks.incrementAndGet();
            });
            this.housekeepingInterval = config.housekeepingInterval().orElse(Duration.ofDays(365));
            this.gcInterval = config.gcInterval().orElse(Duration.ofDays(365 * 100));
            this.api = new ApiServer(new InetSocketAddress("127.0.0.1", config.apiPort()),
                    new DaemonFacts(repository.root(), repository.root().resolve(Repository.CONFIG),
                            repository.daemonLog(), config, proxy.addresses(), dist.bin(),
                            dist.version(), user.name(), idleChecks::get), new ComputesBackend(computes), this::close,
                    Repository.apiToken(repository.root()), clientCommands);
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
    }

    /**
     * Starts the daemon for the repository; refuses when another one already runs on it. {@code clientCommands}
     * runs the commands launchers hand to the API.
     */
    public static PageServer start(Path root, boolean tls, ClientCommands clientCommands) {
        Repository.open(root);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw ZenithException.conflict("pageserver is already running in " + root, "zenith pageserver status");
            }
            // upgraded under the lock, before anything reads the metadata for good
            RepositoryFormat.thisVersion().upgrade(root).ifPresent(backup -> log.info(
                    "upgraded the repository to format {}; its metadata as it was is in {}", RepositoryFormat.CURRENT, backup));
            Repository repository = tls ? Repository.open(root).withProxyTls() : Repository.open(root);
            PageServer server = new PageServer(repository, channel, lock, clientCommands);
            server.run();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + root.resolve(LOCK_FILE), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private void run() throws IOException {
        Files.writeString(repository.root().resolve(PID_FILE), ProcessHandle.current().pid() + "\n");
        computes.reconcile();
        long imageThreshold = (long) repository.config().imageWalThresholdMb() << 20;
        computes.onLastLeaseClosed(() -> background.soon(idleCheck));
        background.every(idleCheck, Duration.ZERO, IDLE_CHECK_INTERVAL);
        background.every(new BackgroundTasks.Task("images", () -> computes.makeImagesWhereDue(imageThreshold)),
                housekeepingInterval, housekeepingInterval);
        background.every(new BackgroundTasks.Task("gc", computes::collectGarbage), gcInterval, gcInterval);
        background.every(new BackgroundTasks.Task("spares", computes::pruneSpares), housekeepingInterval, housekeepingInterval);
        background.every(new BackgroundTasks.Task("expiry", () -> computes.branches().deleteExpired(Instant.now())),
                EXPIRY_INTERVAL, EXPIRY_INTERVAL);
        background.every(new BackgroundTasks.Task("remote-state", () -> computes.sync().states(null)),
                REMOTE_STATE_INTERVAL, REMOTE_STATE_INTERVAL);
        background.every(new BackgroundTasks.Task("logs", this::rollLogs), housekeepingInterval, housekeepingInterval);
        api.start();
        proxy.start();
        log.info("pageserver started: pid {}, API on 127.0.0.1:{}, proxy on {}, repository {}", ProcessHandle.current().pid(),
                repository.config().apiPort(), proxy.addresses(), repository.root());
    }

    /**
     * Caps the computes' logs and the daemon's standard output at {@code maxLogMb} each (and three older
     * generations); logback rolls {@code pageserver.log} itself as it writes.
     */
    private void rollLogs() {
        long maxBytes = (long) repository.config().maxLogMb() << 20;
        try (Stream<Path> files = Files.list(repository.logsDir())) {
            files.filter(f -> !f.equals(repository.daemonLog()))
                    .filter(f -> f.getFileName().toString().endsWith(".log") || f.getFileName().toString().endsWith(".out"))
                    .map(RotatedLog::new)
                    .filter(rotated -> rotated.rollIfOver(maxBytes))
                    .forEach(rotated -> log.info("rolled {}: it was over {} MiB", rotated.file().getFileName(),
                            repository.config().maxLogMb()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + repository.logsDir(), e);
        }
    }

    /** The pid of the daemon running on a repository, if any. */
    static OptionalLong runningPid(Path root) {
        return PidFile.liveProcess(root.resolve(PID_FILE)).map(h -> OptionalLong.of(h.pid())).orElse(OptionalLong.empty());
    }

    void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** Stops the API, then every compute cleanly, then lets go of the repository. */
    @Override
    public void close() {
        closeLock.lock();
        try {
            closeOnce();
        } finally {
            closeLock.unlock();
        }
    }

    private void closeOnce() {
        if (stopped.getCount() == 0) {
            return;
        }
        log.info("pageserver stopping");
        proxy.close();
        api.close();
        try {
            background.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        computes.close();
        try {
            Files.deleteIfExists(repository.root().resolve(PID_FILE));
            lock.release();
        } catch (IOException e) {
            log.warn("cannot clean up pid file or lock", e);
        }
        closeQuietly(lockChannel);
        log.info("pageserver stopped");
        stopped.countDown();
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }
}
