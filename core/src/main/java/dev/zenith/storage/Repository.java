package dev.zenith.storage;

import dev.zenith.AtomicFiles;
import dev.zenith.Failpoints;
import dev.zenith.BranchName;
import dev.zenith.RepositoryConfig;
import dev.zenith.StorageFault;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A zenith repository on disk. Layout:
 * <pre>
 *   config.json              settings ({@link RepositoryConfig})
 *   branches.json            branch name -> timeline id
 *   tags.json                named points of timelines ({@link TagRegistry})
 *   timelines/ID/            one {@link Timeline} each: timeline.json, wal/, wal-partial/, images/
 *   computes/NAME.json       compute nodes (owned by the compute package)
 *   pgdatadirs/NAME/         compute data directories: a cache, rebuilt from timelines/ when missing
 *   restore/NAME/            the WAL a compute's recovery may read (see {@link RecoveryPlan})
 *   sockets/                 the computes' Unix sockets
 *   logs/                    pageserver.log and one log per compute
 *   tmp/                     staging, on the same file system so renames are atomic
 * </pre>
 *
 * <p>Thread-safety: {@code branches} and {@code tags} are {@link JsonFileMap}s (a lock of their own for
 * changes, immutable snapshots for readers); {@code timelines} is a concurrent cache of loaded timelines;
 * the rest is immutable. A change spanning a timeline and a name (create, reset, delete) is kept whole
 * against garbage collection by the compute package's locks (the timeline's, then the archive's), not here.
 */
public final class Repository {

    public static final String CONFIG = "config.json";
    /** The Postgres superuser's password when {@code auth} is {@code password}; owner-only. */
    public static final String PASSWORD = "password";
    /** The secret every request to the daemon's API carries (0600): only the repository's owner can read it. */
    public static final String API_TOKEN = "api-token";

    private final Path root;
    private final RepositoryConfig config;
    private final BranchRegistry branches;
    private final TagRegistry tags;
    private final Map<TimelineId, Timeline> timelines = new ConcurrentHashMap<>();
    private final Graveyard graveyard;

    private Repository(Path root, RepositoryConfig config) {
        this.root = root;
        this.config = config;
        this.branches = new BranchRegistry(root.resolve("branches.json"));
        this.tags = new TagRegistry(root.resolve("tags.json"));
        this.graveyard = new Graveyard(tmpDir());
    }

    public static boolean exists(Path root) {
        return Files.exists(root.resolve(CONFIG));
    }

    public static Repository open(Path root) {
        if (!exists(root)) {
            throw ZenithException.notFound("no repository in " + root,
                    "run zenith init to make one there, or name one with --repo DIR or $ZENITH_REPO_DIR");
        }
        RepositoryFormat.thisVersion().checkReadable(root);
        return new Repository(root, RepositoryConfig.read(root.resolve(CONFIG)));
    }

    /** Creates the directory layout and config. The root timeline is added by {@link #createRoot}. */
    public static Repository create(Path root, RepositoryConfig config) {
        if (exists(root)) {
            throw ZenithException.conflict("a zenith repository already exists in " + root,
                    "use it as it is, or remove " + root + " to start over");
        }
        try {
            for (String dir : new String[] {"timelines", "computes", "pgdatadirs", "restore", "sockets", "logs", "tmp"}) {
                Files.createDirectories(root.resolve(dir));
            }
        } catch (IOException e) {
            throw ZenithException.failed("cannot create a repository in " + root + ": " + e.getMessage(),
                    "check that the directory is writable");
        }
        AtomicFiles.writeJson(root.resolve(CONFIG), config);
        makeApiToken(root);
        RepositoryFormat.write(root, RepositoryFormat.CURRENT);
        return new Repository(root, config);
    }

    /** Writes a new API token: 32 random bytes, readable by the owner alone from its first byte. */
    static void makeApiToken(Path root) {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        AtomicFiles.writePrivate(root.resolve(API_TOKEN), (java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The API token of the repository in {@code root}; a missing one is a damaged repository, said with how to mend it. */
    public static String apiToken(Path root) {
        Path file = root.resolve(API_TOKEN);
        try {
            return Files.readString(file).strip();
        } catch (java.nio.file.NoSuchFileException e) {
            throw ZenithException.failed(file + " is missing: the API cannot tell its owner from anyone else",
                    "stop the pageserver (kill its pid in " + root.resolve("pageserver.pid") + ") and start it again: a start makes one");
        } catch (java.nio.file.AccessDeniedException e) {
            throw ZenithException.failed("cannot read " + file + ": only the repository's owner may drive its pageserver",
                    "run zenith as the user who ran zenith init");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public Path root() {
        return root;
    }

    /** The same repository with TLS on the proxy for this run (config.json is unchanged). */
    public Repository withProxyTls() {
        return new Repository(root, config.toBuilder().proxyTls(true).build());
    }

    public RepositoryConfig config() {
        return config;
    }

    /** Writes new settings to config.json; the daemon reads them at its next start. */
    public Repository saveConfig(RepositoryConfig changed) {
        AtomicFiles.writeJson(root.resolve(CONFIG), changed);
        return new Repository(root, changed);
    }

    /** The superuser's password, when one was set ({@code auth = password}). */
    public Optional<String> password() {
        Path file = root.resolve(PASSWORD);
        try {
            return Files.exists(file) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The password in password mode; its absence there is a damaged repository, said with how to mend it. */
    public String requirePassword() {
        return password().orElseThrow(() -> ZenithException.failed("auth is password in " + root.resolve(CONFIG) + " but "
                + root.resolve(PASSWORD) + " is missing", "set one with zenith auth password"));
    }

    public void savePassword(String password) {
        AtomicFiles.writePrivate(root.resolve(PASSWORD), (password + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public BranchRegistry branches() {
        return branches;
    }

    public TagRegistry tags() {
        return tags;
    }

    /**
     * Makes a root timeline, named {@code name}, from a data directory: main's, cleanly shut down by
     * initdb, or an imported database's ({@code importedFrom} says whence; null for main), which may be a
     * base backup that {@code filler} gives the WAL of, and whose superuser may not be the repository's
     * ({@code superuser}; null: the repository's). Its history starts at {@code end}.
     */
    public Timeline createRoot(BranchName name, Path stagedDataDir, WalPoint end, String importedFrom, String superuser,
                               TimelineFiller filler) {
        requireNewBranchName(name);
        TimelineId id = TimelineId.generate();
        Timeline timeline = newTimeline(new TimelineMetadata(id, null, null, 0, Instant.now(), end.lsn(), end.tli(), null, null, null,
                importedFrom, superuser), filler);
        timeline.addImage(stagedDataDir, end);
        if (!branches.add(name, id)) {
            deleteTimeline(timeline);
            throw nameTaken(name);
        }
        return timeline;
    }

    /**
     * Creates a branch at {@code point} of {@code parent}'s WAL. Only metadata is written: the branch's
     * data comes from its ancestors' images and WAL when a compute first starts on it.
     */
    public Timeline createBranch(BranchName name, Timeline parent, WalPoint point, String retention, Instant expiresAt) {
        requireNewBranchName(name);
        Timeline timeline = newTimeline(TimelineMetadata.branch(TimelineId.generate(), parent.id(), point, retention, expiresAt));
        Failpoints.reach("branch-timeline-made");
        if (!branches.add(name, timeline.id())) {
            deleteTimeline(timeline);
            throw nameTaken(name);
        }
        return timeline;
    }

    /**
     * A timeline brought from elsewhere (a remote), with its own id and metadata: built under {@code tmp/}
     * by {@code filler} and renamed into place, so it is there whole or not at all. One already here is
     * left as it is.
     */
    public Timeline importTimeline(TimelineMetadata metadata, TimelineFiller filler) {
        Path target = root.resolve("timelines").resolve(metadata.id().value());
        if (Files.exists(target.resolve(Timeline.METADATA))) {
            return timeline(metadata.id());
        }
        Path staged = root.resolve("tmp").resolve("timeline-" + metadata.id());
        try {
            FileTrees.deleteTree(staged);
            Timeline.create(staged, metadata);
            filler.fill(staged);
            AtomicFiles.moveDurably(staged, target);
        } catch (IOException e) {
            FileTrees.deleteTree(staged);
            throw new UncheckedIOException("cannot import timeline " + metadata.id(), e);
        }
        Timeline timeline = Timeline.load(target);
        timelines.put(metadata.id(), timeline);
        return timeline;
    }

    /** The timeline with {@code id}, if the repository has it. */
    public Optional<Timeline> timelineIfPresent(TimelineId id) {
        if (!Files.exists(root.resolve("timelines").resolve(id.value()).resolve(Timeline.METADATA))) {
            return Optional.empty();
        }
        try {
            return Optional.of(timeline(id));
        } catch (UncheckedIOException e) {
            if (StorageFault.of(e.getCause()) == StorageFault.MISSING) {
                return Optional.empty(); // deleted since the look: a delete holds only its own branch's lock
            }
            throw e;
        }
    }

    /** Names an imported timeline as branch {@code name}. */
    public void nameBranch(BranchName name, TimelineId timeline) {
        requireNewBranchName(name);
        if (!branches.add(name, timeline)) {
            throw nameTaken(name);
        }
    }

    /** The timelines branched directly from {@code timeline}. */
    public java.util.List<Timeline> children(TimelineId timeline) {
        try (java.util.stream.Stream<Path> dirs = Files.list(root.resolve("timelines"))) {
            return dirs.filter(d -> Files.exists(d.resolve(Timeline.METADATA)))
                    .map(d -> timelineIfPresent(new TimelineId(d.getFileName().toString()))).flatMap(Optional::stream)
                    .filter(t -> timeline.equals(t.metadata().ancestor())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list timelines", e);
        }
    }

    /** Renames a branch; its timeline, data and compute stay as they are. Connections that name no branch go to main. */
    public void renameBranch(BranchName from, BranchName to) {
        if (from.equals(BranchName.MAIN)) {
            throw ZenithException.badRequest("main cannot be renamed: connections that name no branch go to main");
        }
        requireBranch(from);
        requireNewBranchName(to);
        Failpoints.reach("branch-rename-checked");
        switch (branches.rename(from, to)) {
            case RENAMED -> { }
            case NO_SUCH_BRANCH -> throw noSuchBranch(from);
            case NAME_TAKEN -> throw nameTaken(to);
        }
    }

    /**
     * Points a branch at a new timeline made from its parent's latest state; the old timeline stays as
     * {@code backup}, or, with no backup, is removed unless a child branch or a tag needs it (the new
     * timeline does, when it starts from a point of the old one). Returns the new timeline.
     */
    public Timeline resetBranch(BranchName name, Timeline parent, WalPoint point, BranchName backup) {
        Timeline old = requireBranch(name);
        if (backup != null) {
            requireNewBranchName(backup);
        }
        Timeline fresh = newTimeline(TimelineMetadata.branch(TimelineId.generate(), parent.id(), point,
                old.metadata().retention(), old.metadata().expiresAt()));
        if (!branches.repoint(name, fresh.id(), backup, old.id())) {
            throw ZenithException.conflict("branch \"" + name + "\" changed while it was being reset", "try again");
        }
        if (backup == null) {
            deleteTimelineUnlessNeeded(old);
        }
        return fresh;
    }

    /**
     * Puts a new root, made from a data directory as {@link #createRoot} makes one, in place of branch {@code name}'s
     * timeline (a derived root made again); the old one stays as branch {@code backup} when given, else goes
     * unless something needs it. The branch keeps its retention and expiry.
     */
    public Timeline resetRoot(BranchName name, Path stagedDataDir, WalPoint end, String origin, String superuser,
                              TimelineFiller filler, BranchName backup) {
        Timeline old = requireBranch(name);
        if (backup != null) {
            requireNewBranchName(backup);
        }
        Timeline fresh = newTimeline(new TimelineMetadata(TimelineId.generate(), null, null, 0, Instant.now(), end.lsn(), end.tli(),
                old.metadata().retention(), old.metadata().expiresAt(), null, origin, superuser), filler);
        fresh.addImage(stagedDataDir, end);
        if (!branches.repoint(name, fresh.id(), backup, old.id())) {
            deleteTimeline(fresh);
            throw ZenithException.conflict("branch \"" + name + "\" changed while it was being reset", "try again");
        }
        if (backup == null) {
            deleteTimelineUnlessNeeded(old);
        }
        return fresh;
    }

    /** Sets a branch's own retention window; null goes back to the repository's. */
    public void setRetention(BranchName name, String window) {
        if (window != null) {
            Retention.parse(window);
        }
        requireBranch(name).setRetention(window);
    }

    /** How far back a branch's history stays available. */
    public Retention retention(Timeline timeline) {
        return Retention.of(timeline, config.retention());
    }

    /**
     * Removes a branch's name and, unless another branch grew from it or a tag names a point of it, its
     * timeline; returns the bytes freed. A timeline kept that way stays, nameless, as long as what needs
     * it (GC removes it after), as a git commit outlives a deleted branch.
     */
    public long deleteBranch(BranchName name, Timeline timeline) {
        removeBranchName(name, timeline.id());
        return deleteTimelineUnlessNeeded(timeline);
    }

    /** Whether a child branch or a tag needs {@code timeline}'s history. */
    public boolean isNeeded(Timeline timeline) {
        return !children(timeline.id()).isEmpty() || !tags.on(timeline.id()).isEmpty();
    }

    private long deleteTimelineUnlessNeeded(Timeline timeline) {
        return isNeeded(timeline) ? 0 : deleteTimeline(timeline);
    }

    /** Removes a timeline's directory, first moving it aside so a crash never leaves half of one in place; returns the bytes freed. */
    long deleteTimeline(Timeline timeline) {
        long bytes = discard(timeline.dir());
        timelines.remove(timeline.id());
        return bytes;
    }

    /** Removes a directory of the repository (a timeline, an image) through the {@link Graveyard}; returns the bytes freed. */
    long discard(Path dir) {
        return graveyard.bury(dir);
    }

    /**
     * Removes a directory of the repository (a compute's data directory) through the {@link Graveyard},
     * deleting its files in the background; returns the bytes that frees, 0 when there is no such directory.
     */
    public long discardInBackground(Path dir) {
        return Files.exists(dir) ? graveyard.buryInBackground(dir) : 0;
    }

    /**
     * Empties tmp/ when the daemon starts: it holds only staging (data directories, images being
     * made) and directories being deleted, left behind when a crash interrupted them.
     */
    public void clearTmp() {
        try (java.util.stream.Stream<Path> left = Files.list(tmpDir())) {
            left.forEach(FileTrees::deleteTree);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + tmpDir(), e);
        }
    }

    /** Refuses a name that a branch already has. */
    public void requireNewBranchName(BranchName name) {
        if (branches.get(name).isPresent()) {
            throw nameTaken(name);
        }
    }

    private static ZenithException nameTaken(BranchName name) {
        return ZenithException.conflict("branch \"" + name + "\" already exists",
                "choose another name; zenith branch lists the branches");
    }

    private static ZenithException noSuchBranch(BranchName name) {
        return ZenithException.notFound("branch \"" + name + "\" does not exist", "zenith branch lists the branches");
    }

    private Timeline newTimeline(TimelineMetadata metadata) {
        return newTimeline(metadata, staged -> { });
    }

    private Timeline newTimeline(TimelineMetadata metadata, TimelineFiller filler) {
        Path staged = root.resolve("tmp").resolve("timeline-" + metadata.id());
        Path target = root.resolve("timelines").resolve(metadata.id().value());
        try {
            Timeline.create(staged, metadata);
            filler.fill(staged);
            AtomicFiles.moveDurably(staged, target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create timeline " + target, e);
        }
        Timeline timeline = Timeline.load(target);
        timelines.put(metadata.id(), timeline);
        return timeline;
    }

    public Timeline timeline(TimelineId id) {
        return timelines.computeIfAbsent(id, i -> Timeline.load(root.resolve("timelines").resolve(i.value())));
    }

    /** A branch's timeline; a name pointing at a missing timeline (a damaged repository) is refused with how to mend it. */
    public Optional<Timeline> branch(BranchName name) {
        return branches.get(name).map(id -> timelineIfPresent(id).orElseThrow(() -> ZenithException.failed(
                "branch \"" + name + "\" points at timeline " + id + ", which is missing from " + root.resolve("timelines"),
                "zenith branch delete " + name + " removes the name; its data is gone")));
    }

    /** Removes a branch's name, if it still points at {@code timeline} (which may be missing, in a damaged repository). */
    public void removeBranchName(BranchName name, TimelineId timeline) {
        if (!branches.remove(name, timeline)) {
            throw noSuchBranch(name);
        }
    }

    public Timeline requireBranch(BranchName name) {
        return branch(name).orElseThrow(() -> ZenithException.notFound(
                "branch \"" + name + "\" does not exist", "zenith branch " + name + " main"));
    }

    public Path computesDir() {
        return root.resolve("computes");
    }

    public Path dataDirs() {
        return root.resolve("pgdatadirs");
    }

    public Path restoreDir() {
        return root.resolve("restore");
    }

    public Path socketsDir() {
        return root.resolve("sockets");
    }

    public Path logsDir() {
        return root.resolve("logs");
    }

    /** The daemon's log; logback rolls it (see {@link dev.zenith.LogSetup}). */
    public Path daemonLog() {
        return logsDir().resolve("pageserver.log");
    }

    public Path tmpDir() {
        return root.resolve("tmp");
    }
}
