package dev.zenith.pageserver;

import dev.zenith.api.ClientCommands;
import dev.zenith.postgres.OsUser;
import dev.zenith.postgres.PgDistribution;
import dev.zenith.AuthMode;
import dev.zenith.BranchName;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.model.FileSystemInfo;
import dev.zenith.model.CloneSummary;
import dev.zenith.model.OperationInfo;
import dev.zenith.model.RemoteCredentials;
import dev.zenith.model.RemoteGcResult;
import dev.zenith.model.RemoteInfo;
import dev.zenith.compute.Computes;


import dev.zenith.remote.BranchManifest;
import dev.zenith.remote.Clone;
import dev.zenith.remote.ObjectStore;
import dev.zenith.remote.RemoteGc;
import dev.zenith.remote.RemoteTracking;
import dev.zenith.remote.Transfer;
import dev.zenith.remote.Remote;
import dev.zenith.remote.Remotes;
import dev.zenith.storage.CloneProbe;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * What the command line does to a repository without going through the daemon's API: make one, read its
 * settings, change its authentication, find its logs, and run the daemon itself. The CLI's only way into
 * the server's classes; everything else it does is an API call.
 */
public final class Offline {

    private final Repository repository;

    private Offline(Repository repository) {
        this.repository = repository;
    }

    public static boolean exists(Path root) {
        return Repository.exists(root);
    }

    /** The repository at {@code root}; refused with "run zenith init" when there is none. */
    public static Offline open(Path root) {
        return new Offline(Repository.open(root));
    }

    /**
     * Makes a repository in {@code root} (absent or an empty directory) and runs initdb for its main branch;
     * {@code password}, in password mode, is kept owner-only. A failure leaves {@code root} as it was.
     */
    public static Offline init(Path root, RepositoryConfig settings, Optional<String> password, Consumer<String> progress) {
        boolean existed = Files.exists(root);
        try {
            PgDistribution dist = PgDistribution.resolve(settings.pgBin(), settings.pgVersion(), progress);
            OsUser user = OsUser.resolve(settings.osUser());
            Files.createDirectories(root);
            user.checkCanReach(root, "repository");
            user.checkCanReach(dist.bin(), "PostgreSQL binaries");
            Repository repository = Repository.create(root, settings.toBuilder().pgVersion(dist.major()).build());
            user.closeToOthers(root);
            password.ifPresent(repository::savePassword);
            Computes.initRoot(repository, dist, user);
            return new Offline(repository);
        } catch (IOException e) {
            undo(root, existed);
            throw new UncheckedIOException("cannot create " + root, e);
        } catch (RuntimeException e) {
            undo(root, existed);
            throw e;
        }
    }

    /** A failed init leaves things as they were, so that running it again just works. */
    private static void undo(Path root, boolean existed) {
        FileTrees.deleteTree(root);
        if (existed) {
            try {
                Files.createDirectories(root);
            } catch (IOException ignored) {
                // it was empty; nothing of the user's is lost
            }
        }
    }

    public Path root() {
        return repository.root();
    }

    public RepositoryConfig config() {
        return repository.config();
    }

    public Path configFile() {
        return repository.root().resolve(Repository.CONFIG);
    }

    /** Refuses a branch the repository does not have, with how to make it. */
    public void requireBranch(BranchName branch) {
        repository.requireBranch(branch);
    }

    public boolean hasBranch(BranchName branch) {
        return repository.branch(branch).isPresent();
    }

    public int branchCount() {
        return repository.branches().all().size();
    }

    /** The repository's file system: its kind, whether it clones, and what a started branch copies without clones. */
    public FileSystemInfo fileSystem() {
        long image = repository.branch(BranchName.MAIN).flatMap(Timeline::newestImage)
                .map(i -> FileTrees.sizeOf(i.dataDir())).orElse(0L);
        return new FileSystemInfo(CloneProbe.type(repository.root()), CloneProbe.clones(repository.tmpDir()), image);
    }

    /** The superuser's password, in password mode. */
    public Optional<String> password() {
        return repository.password();
    }

    public Path passwordFile() {
        return repository.root().resolve(Repository.PASSWORD);
    }

    public Path logsDir() {
        return repository.logsDir();
    }

    public Path daemonLog() {
        return repository.daemonLog();
    }

    /** The Postgres log of a compute named by itself or by its branch. */
    public Path computeLog(String nameOrBranch) {
        return Computes.logFile(repository, nameOrBranch);
    }

    /** The pid of the daemon serving this repository, if one runs. */
    public OptionalLong daemonPid() {
        return PageServer.runningPid(repository.root());
    }

    /** The repository's remotes, by name. */
    public List<RemoteInfo> remotes() {
        return new Remotes(repository.root()).list().stream().map(Remote::info).toList();
    }

    /** Adds a remote ({@code zenith remote add}); {@code pathStyle} null picks the endpoint's default. */
    public RemoteInfo addRemote(String name, String url, String endpoint, String region, Boolean pathStyle) {
        Remote remote = Remote.parse(name, url, endpoint, region, pathStyle);
        new Remotes(repository.root()).add(remote);
        return remote.info();
    }

    public void removeRemote(String name) {
        new Remotes(repository.root()).remove(name);
    }

    /**
     * The AWS credentials this process finds (environment, {@code ~/.aws}), to hand to the daemon for one
     * push or pull; null when there are none, and the daemon looks in its own environment.
     */
    public static RemoteCredentials callerCredentials() {
        try {
            AwsCredentials found = DefaultCredentialsProvider.builder().build().resolveCredentials();
            return new RemoteCredentials(found.accessKeyId(), found.secretAccessKey(),
                    found instanceof AwsSessionCredentials session ? session.sessionToken() : null);
        } catch (SdkClientException none) {
            return null;
        }
    }

    /** {@code zenith gc --remote}: keeps each branch's newest {@code keep} manifests and what they name. */
    public RemoteGcResult collectRemoteGarbage(String remoteName, int keep, Consumer<String> progress) {
        if (keep < 1) {
            throw ZenithException.badRequest("--keep must be at least 1, not " + keep);
        }
        Remote remote = new Remotes(repository.root()).require(remoteName);
        try (ObjectStore store = remote.open()) {
            RemoteGc.Result r = new RemoteGc(store).collect(keep, progress);
            return new RemoteGcResult(remote.name(), r.manifestsRemoved(), r.objectsRemoved(), r.bytesRemoved(),
                    r.objectsKept(), r.bytesKept());
        }
    }

    /**
     * Makes a repository in {@code root} from the branches on {@code remote} (all, or {@code branches}),
     * recording the remote as {@code origin}. A failure leaves {@code root} as it was.
     */
    public static CloneSummary clone(Path root, RepositoryConfig defaults, String url, String endpoint, String region,
                                Boolean pathStyle, List<String> branches, Consumer<Supplier<OperationInfo>> watch,
                                Consumer<String> progress) {
        Remote remote = Remote.parse("origin", url, endpoint, region, pathStyle);
        boolean existed = Files.exists(root);
        Transfer transfer = new Transfer();
        long started = System.nanoTime();
        watch.accept(() -> new OperationInfo(0, "clone", null, null, "fetching from " + remote.url(), transfer.done(),
                transfer.total(), (System.nanoTime() - started) / 1_000_000));
        try (ObjectStore store = remote.open()) {
            Clone clone = new Clone(store, transfer);
            List<BranchManifest> manifests = clone.manifests(branches);
            if (manifests.isEmpty()) {
                throw ZenithException.notFound("the remote " + remote.url() + " has no branches", "push one there first");
            }
            Repository repository = Repository.create(root, Clone.settings(manifests, defaults));
            int timelines = clone.into(repository, manifests, new RemoteTracking(root, remote.name()), progress);
            new Remotes(root).add(remote);
            return new CloneSummary(remote.url(), root.toString(),
                    manifests.stream().map(m -> new CloneSummary.Branch(m.branch(), m.seq())).toList(), timelines, transfer.done(),
                    (System.nanoTime() - started) / 1_000_000);
        } catch (RuntimeException e) {
            undo(root, existed);
            throw e;
        }
    }

    /** Keeps the API's and the proxy's ports in config.json, for the next start and every command. */
    public Offline keepPorts(int apiPort, int proxyPort) {
        return new Offline(repository.saveConfig(repository.config().toBuilder().apiPort(apiPort).proxyPort(proxyPort).build()));
    }

    /** Switches how computes authenticate clients (read by the daemon at its next start). */
    public void setAuth(AuthMode mode, Optional<String> password) {
        RepositoryConfig changed = repository.config().toBuilder().auth(mode).build();
        changed.checkExposure();
        Repository saved = repository.saveConfig(changed);
        if (changed.passwordAuth()) {
            saved.savePassword(password.orElseThrow());
        } else {
            try {
                Files.deleteIfExists(passwordFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + passwordFile(), e);
            }
        }
    }

    /** Runs the daemon in this process until it is stopped (by the API, a signal, or the JVM's end). */
    public void runDaemon(boolean tls, ClientCommands clientCommands, Runnable onStarted) throws InterruptedException {
        PageServer server = PageServer.start(repository.root(), tls, clientCommands);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "pageserver-shutdown"));
        onStarted.run();
        server.awaitStop();
    }
}
