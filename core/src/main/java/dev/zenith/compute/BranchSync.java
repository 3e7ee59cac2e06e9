package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Deadline;
import dev.zenith.Locks;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.model.BranchRemoteState;
import dev.zenith.model.PullOutcome;
import dev.zenith.model.PullSummary;
import dev.zenith.model.PushSummary;
import dev.zenith.model.RemoteCredentials;
import dev.zenith.remote.BranchComparison;
import dev.zenith.remote.BranchManifest;
import dev.zenith.remote.ObjectStore;
import dev.zenith.remote.Pull;
import dev.zenith.remote.Push;
import dev.zenith.remote.Remote;
import dev.zenith.remote.RemoteTracking;
import dev.zenith.remote.Remotes;
import dev.zenith.remote.Transfer;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalFileName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Push and pull while the daemon runs, fitted around its computes: a running branch's open WAL segment is
 * switched out and archived before its push; a pull that moves a branch stops its compute, drops its data
 * directory (the next start rebuilds it from the pulled files) and starts it again if it ran. Pushes and
 * pulls share the archive with recoveries ({@link ArchiveLock}), so GC waits for them. One transfer per
 * remote at a time ({@code transfers}), as its tracking files are not shared.
 */
public final class BranchSync {

    private static final Duration ARCHIVE_TIMEOUT = Duration.ofSeconds(60);

    private final Repository repository;
    private final TimelineLocks locks;
    private final ArchiveLock archive;
    private final BranchComputes computes;
    private final ComputeSql sql;
    private final Operations operations;
    private final Map<String, ReentrantLock> transfers = new ConcurrentHashMap<>();
    private volatile List<BranchRemoteState> known = List.of();

    BranchSync(Repository repository, TimelineLocks locks, ArchiveLock archive, BranchComputes computes, ComputeSql sql,
               Operations operations) {
        this.repository = repository;
        this.locks = locks;
        this.archive = archive;
        this.computes = computes;
        this.sql = sql;
        this.operations = operations;
    }

    /** Pushes {@code branches} (every branch when empty) to the remote named {@code remoteName}. */
    public List<PushSummary> push(String remoteName, List<BranchName> branches, RemoteCredentials given) {
        Remote remote = remote(remoteName);
        AwsCredentialsProvider credentials = credentials(given);
        List<BranchName> names = branches.isEmpty() ? List.copyOf(repository.branches().all().keySet()) : branches;
        names.forEach(repository::requireBranch);
        return exclusively(remote, () -> {
            List<PushSummary> pushed = new ArrayList<>();
            try (ObjectStore store = remote.open(credentials)) {
                RemoteTracking tracking = new RemoteTracking(repository.root(), remote.name());
                for (BranchName name : names) {
                    Transfer transfer = new Transfer();
                    long started = System.nanoTime();
                    try (Operations.Tracker op = operations.begin("push", null, name)) {
                        Timeline timeline = repository.requireBranch(name);
                        op.phase("archiving open WAL");
                        Optional<WalPoint> liveEnd = archiveOpenWal(timeline);
                        op.phase("sending to " + remote.name(), transfer::total, transfer::done);
                        Push.Result r = archive.whileUsing(() ->
                                new Push(repository, store, tracking, transfer).push(name, liveEnd, m -> { }));
                        pushed.add(new PushSummary(r.branch(), r.seq(), r.objectsSent(), r.bytesSent(), r.objectsKept(),
                                r.upToDate(), (System.nanoTime() - started) / 1_000_000));
                    }
                }
            }
            states(given);
            return pushed;
        });
    }

    /** Brings {@code branches} (every branch the remote has when empty) up to the remote's. */
    public List<PullSummary> pull(String remoteName, List<BranchName> branches, RemoteCredentials given) {
        Remote remote = remote(remoteName);
        AwsCredentialsProvider credentials = credentials(given);
        return exclusively(remote, () -> {
            List<PullSummary> pulled = new ArrayList<>();
            try (ObjectStore store = remote.open(credentials)) {
                RemoteTracking tracking = new RemoteTracking(repository.root(), remote.name());
                List<BranchName> names = branches.isEmpty()
                        ? BranchManifest.branchNames(store).stream().map(BranchName::new).toList() : branches;
                for (BranchName name : names) {
                    Transfer transfer = new Transfer();
                    long started = System.nanoTime();
                    try (Operations.Tracker op = operations.begin("pull", null, name)) {
                        op.phase("fetching from " + remote.name(), transfer::total, transfer::done);
                        Pull.Result r = pullOne(new Pull(repository, store, tracking, transfer), name);
                        pulled.add(new PullSummary(r.branch(), r.outcome(), r.manifest(), r.bytesFetched(),
                                (System.nanoTime() - started) / 1_000_000));
                    }
                }
            }
            states(given);
            return pulled;
        });
    }

    /**
     * How each branch stands against each remote, asked now; {@code given} are the caller's credentials
     * (null: the daemon's own). Remembered for {@link #knownStates}.
     */
    public List<BranchRemoteState> states(RemoteCredentials given) {
        List<BranchRemoteState> states = new ArrayList<>();
        for (Remote remote : new Remotes(repository.root()).list()) {
            states.addAll(states(remote, credentials(given)));
        }
        known = List.copyOf(states);
        return states;
    }

    /** The states last asked for (by the console's refresh task, a push, a pull or {@code zenith remote status}). */
    public List<BranchRemoteState> knownStates() {
        return known;
    }

    /** How each branch stands against {@code remote}; a branch the remote cannot be asked about has state null. */
    private List<BranchRemoteState> states(Remote remote, AwsCredentialsProvider credentials) {
        List<BranchRemoteState> states = new ArrayList<>();
        RemoteTracking tracking = new RemoteTracking(repository.root(), remote.name());
        try (ObjectStore store = remote.open(credentials)) {
            for (Map.Entry<BranchName, ?> e : repository.branches().all().entrySet()) {
                Timeline local = repository.requireBranch(e.getKey());
                Optional<BranchManifest> theirs = BranchManifest.latest(store, e.getKey().value());
                BranchComparison c = BranchComparison.of(repository, local, tracking, theirs,
                        computes::livePgWal);
                states.add(new BranchRemoteState(e.getKey().value(), remote.name(), c.state(), c.detail()));
            }
        } catch (ZenithException unreachable) {
            for (BranchName name : repository.branches().all().keySet()) {
                states.add(new BranchRemoteState(name.value(), remote.name(), null,
                        unreachable.getMessage() + (unreachable.hint() == null ? "" : " (" + unreachable.hint() + ")")));
            }
        }
        return states;
    }

    private Remote remote(String name) {
        return new Remotes(repository.root()).require(name);
    }

    private static AwsCredentialsProvider credentials(RemoteCredentials given) {
        if (given == null || given.accessKeyId() == null || given.secretAccessKey() == null) {
            return DefaultCredentialsProvider.builder().build();
        }
        return StaticCredentialsProvider.create(given.sessionToken() == null
                ? AwsBasicCredentials.create(given.accessKeyId(), given.secretAccessKey())
                : AwsSessionCredentials.create(given.accessKeyId(), given.secretAccessKey(), given.sessionToken()));
    }

    /**
     * Pulls one branch. A branch already here is compared and moved under its timeline's lock, taken before
     * the archive's as everywhere (docs/ARCHITECTURE.md, "Locks"): its compute neither starts nor stops
     * between the comparison and the move.
     */
    private Pull.Result pullOne(Pull pull, BranchName name) {
        BranchManifest theirs = pull.theirs(name);
        Optional<Timeline> local = repository.branch(name);
        if (local.isEmpty()) {
            return archive.whileUsing(() -> pull.fetch(theirs, m -> { }));
        }
        Timeline timeline = local.get();
        return locks.withLock(timeline.id(), () -> archive.whileUsing(() -> {
            BranchComparison before = pull.compare(timeline, theirs, computes::livePgWal);
            switch (before.state()) {
                case IN_SYNC:
                    return pull.upToDate(theirs);
                case AHEAD:
                    return new Pull.Result(name.value(), PullOutcome.AHEAD, theirs.seq(), 0);
                case DIVERGED:
                case NOT_PUSHED:
                    throw diverged(name, before);
                case BEHIND:
                default:
                    break;
            }
            BranchComputes.Paused paused = computes.pause(timeline);
            BranchComparison now = pull.compare(timeline, theirs, id -> Optional.empty());
            if (now.state() != dev.zenith.model.RemoteState.BEHIND) {
                throw diverged(name, now);
            }
            paused.dropData(timeline);
            Pull.Result result = pull.fastForward(timeline, now, m -> { });
            paused.resume(timeline);
            return result;
        }));
    }

    private static ZenithException diverged(BranchName name, BranchComparison c) {
        return ZenithException.conflict("cannot pull " + name + ": " + c.detail(), "keep yours and take the remote's beside it: "
                + "zenith branch rename " + name + " " + name + "-mine, then zenith pull " + name
                + "; or push yours under another name");
    }

    /**
     * For a branch whose compute runs: switches its WAL to a new segment and waits until the archiver has
     * no complete segment left to take, so the archive holds everything committed before the push began.
     */
    private Optional<WalPoint> archiveOpenWal(Timeline timeline) {
        return locks.withLock(timeline.id(), () -> {
            Optional<BranchComputes.Running> running = computes.running(timeline.id());
            if (running.isEmpty()) {
                return Optional.<WalPoint>empty();
            }
            ComputeNode node = running.get().node();
            Path logFile = running.get().logFile();
            ComputeSql.SwitchedWal switched = sql.switchWal(node, logFile);
            Deadline deadline = Deadline.in(ARCHIVE_TIMEOUT);
            while (sql.unarchivedSegments(node, logFile) > 0) {
                if (deadline.passed()) {
                    throw ZenithException.failed("the WAL of branch " + timeline.id() + " up to " + switched.end()
                            + " was not archived within " + ARCHIVE_TIMEOUT.toSeconds() + " s", "see " + logFile);
                }
                Deadline.pause(Duration.ofMillis(20));
            }
            return Optional.of(new WalPoint(switched.end(), WalFileName.parse(switched.segment()).orElseThrow().tli()));
        });
    }

    private <T> T exclusively(Remote remote, java.util.function.Supplier<T> work) {
        ReentrantLock lock = transfers.computeIfAbsent(remote.name(), r -> Locks.newLock("transfers with " + r));
        lock.lock();
        try {
            return work.get();
        } finally {
            lock.unlock();
        }
    }
}
