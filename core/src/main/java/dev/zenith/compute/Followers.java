package dev.zenith.compute;

import dev.zenith.Deadline;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.model.FollowState;
import dev.zenith.source.ClientRun;
import dev.zenith.source.ClientTools;
import dev.zenith.source.Source;
import dev.zenith.source.SourceServer;
import dev.zenith.storage.Following;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalArchive;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The imported roots that keep receiving their source's WAL ({@code zenith import --follow}), as a
 * streaming standby does but with no Postgres running: one {@code pg_receivewal} each, from the user's
 * client tools, writing into the timeline's archive ({@code wal/}, the open segment as {@code NAME.partial},
 * which the archive's listing does not see). pg_receivewal resumes from the newest segment there, so a
 * restart (of the source, of the network, of the daemon) leaves no gap as long as the source still has
 * the WAL; when it has not, following stops and says so.
 *
 * <p>A branch of a followed timeline asks for its end: {@link #settle} waits until what the source had
 * flushed when asked has arrived, then copies the open segment into {@code wal-partial/} and records the
 * end as the timeline's last point, after which recovery plans and branch points treat it as a stopped
 * branch's WAL.
 *
 * <p>Thread-safety: the receivers are a concurrent map; each is supervised by a thread of its own. Settling
 * runs under the caller's timeline lock.
 */
public final class Followers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Followers.class);
    private static final String PARTIAL = ".partial";
    private static final String PID_FILE = "receiver.pid";
    private static final Duration CATCH_UP = Duration.ofSeconds(60);
    private static final Duration RETRY_MIN = Duration.ofSeconds(1);
    private static final Duration RETRY_MAX = Duration.ofSeconds(30);
    private static final Duration LAG_EVERY = Duration.ofSeconds(2);

    private final Repository repository;
    private final FollowedImages images;
    private final Map<TimelineId, Receiver> receivers = new ConcurrentHashMap<>();

    Followers(Repository repository, FollowedImages images) {
        this.repository = repository;
        this.images = images;
    }

    /** Starts receiving for every followed timeline: at the daemon's start. */
    public void startAll() {
        try (Stream<Path> dirs = Files.list(repository.root().resolve("timelines"))) {
            for (Path dir : dirs.toList()) {
                repository.timelineIfPresent(new TimelineId(dir.getFileName().toString()))
                        .filter(t -> t.following().isPresent()).ifPresent(this::follow);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the timelines", e);
        }
    }

    /** Starts receiving the source's WAL into {@code timeline}, which an import made to follow. */
    void follow(Timeline timeline) {
        Following following = timeline.following().orElseThrow();
        receivers.computeIfAbsent(timeline.id(), id -> new Receiver(timeline, following)).start();
    }

    boolean isFollowed(TimelineId timeline) {
        return receivers.containsKey(timeline);
    }

    /** How following stands for a timeline, for the branch listing; empty when it follows nothing. */
    Optional<FollowState> state(TimelineId timeline) {
        return Optional.ofNullable(receivers.get(timeline)).map(Receiver::state);
    }

    /**
     * Brings a followed timeline's recorded end up to date, for a branch or a view made of it now: first
     * waits until it has what the source had flushed when asked (when the source answers; offline, what
     * has arrived is the end).
     */
    WalPoint settle(Timeline timeline) {
        Receiver receiver = receivers.get(timeline.id());
        Optional<Lsn> target = receiver == null ? Optional.empty() : receiver.sourceFlushed();
        Deadline deadline = Deadline.in(CATCH_UP);
        WalPoint end = snapshot(timeline);
        while (target.isPresent() && end.lsn().compareTo(target.get()) < 0) {
            if (deadline.passed() || receiver.problem() != null) {
                throw ZenithException.failed("branch of timeline " + timeline.id() + " has received its source's WAL up to "
                        + end.lsn() + ", not yet up to " + target.get() + ", where the source stood"
                        + (receiver.problem() == null ? "" : ": " + receiver.problem()),
                        "try again in a moment; see " + receiver.logFile());
            }
            Deadline.pause(Duration.ofMillis(20));
            end = snapshot(timeline);
        }
        timeline.recordCleanStop(end);
        return end;
    }

    /** Ends following: stops receiving and keeps what arrived as the timeline's history. */
    void stop(Timeline timeline) {
        Receiver receiver = receivers.remove(timeline.id());
        if (receiver != null) {
            receiver.close();
        }
        timeline.recordCleanStop(snapshot(timeline));
        timeline.stopFollowing();
        try {
            Optional<Path> receiving = newestPartial(timeline.wal().archiveDir());
            if (receiving.isPresent()) {
                Files.delete(receiving.get()); // its valid WAL is in wal-partial/ now
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the segment being received in " + timeline.wal().archiveDir(), e);
        }
    }

    @Override
    public void close() {
        receivers.values().forEach(Receiver::close);
        receivers.clear();
    }

    /**
     * Makes pg_receivewal resume a timeline made from a base backup ({@link WalArchive#takeCopiedWal}) at
     * the start of the segment holding the copy's end: that segment as {@code NAME.partial} in the
     * archive, which pg_receivewal takes as the one it was writing. Without it, a copy whose WAL fits in
     * one segment would have it start where the source writes now, leaving a gap.
     */
    static void resumeAfterCopy(WalArchive wal, WalFileName openSegment) throws IOException {
        Files.copy(wal.partial().get(openSegment), wal.archiveDir().resolve(openSegment + PARTIAL));
    }

    /** Copies the segment being received into wal-partial/ and returns where its valid WAL ends. */
    private WalPoint snapshot(Timeline timeline) {
        timeline.wal().adoptFiles();
        for (int attempt = 0; ; attempt++) {
            try {
                Optional<WalFileName> open = receiving(timeline).map(r -> {
                    timeline.wal().capturePartial(r.path(), r.segment());
                    return r.segment();
                });
                Lsn end = endOfValidWal(timeline, open.map(segment -> new Receiving(segment, timeline.wal().partial().get(segment))));
                return new WalPoint(end.compareTo(timeline.metadata().lastLsn()) > 0 ? end : timeline.metadata().lastLsn(),
                        timeline.metadata().lastTli());
            } catch (UncheckedIOException e) {
                if (attempt >= 3) {
                    throw e; // else pg_receivewal completed the segment as it was copied: look again
                }
            }
        }
    }

    /** The segment pg_receivewal writes now ({@code NAME.partial} in the archive), if any. */
    private record Receiving(WalFileName segment, Path path) {
    }

    private static Optional<Receiving> receiving(Timeline timeline) {
        return newestPartial(timeline.wal().archiveDir()).map(p -> {
            String name = p.getFileName().toString();
            return new Receiving(WalFileName.parse(name.substring(0, name.length() - PARTIAL.length())).orElseThrow(), p);
        });
    }

    /**
     * Where the valid WAL of a followed timeline ends: its archive, with {@code open} (the segment being
     * received, or a copy of it) read from its start, or from the timeline's last point when that is later.
     */
    private static Lsn endOfValidWal(Timeline timeline, Optional<Receiving> open) {
        Map<WalFileName, Path> files = new TreeMap<>(timeline.wal().archived());
        Lsn from = timeline.metadata().lastLsn();
        if (open.isPresent()) {
            files.put(open.get().segment(), open.get().path());
            Lsn segmentStart = new Lsn(open.get().segment().segmentNumber() * WalFileName.SEGMENT_SIZE);
            from = from.compareTo(segmentStart) > 0 ? from : segmentStart;
        }
        return new WalReader(files, timeline.history(timeline.metadata().lastTli(), Optional.empty())).endOfValidWal(from)
                .orElse(from);
    }

    private static Optional<Path> newestPartial(Path archive) {
        try (Stream<Path> files = Files.list(archive)) {
            return files.filter(f -> f.getFileName().toString().endsWith(PARTIAL)).max(Path::compareTo);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + archive, e);
        }
    }

    /** One timeline's pg_receivewal, restarted when it exits until following ends or the source lost WAL we need. */
    private final class Receiver {
        private final Timeline timeline;
        private final Following following;
        private final Path logFile;
        private volatile boolean closed;
        private volatile Process process;
        private volatile String problem;
        private Thread supervisor;
        private Thread imageMaker;
        private FollowState lastState;
        private long lastStateNanos;
        private java.time.Instant caughtUpAt;

        Receiver(Timeline timeline, Following following) {
            this.timeline = timeline;
            this.following = following;
            this.logFile = repository.logsDir().resolve("follow-" + timeline.id() + ".log");
        }

        Path logFile() {
            return logFile;
        }

        String problem() {
            return problem;
        }

        synchronized void start() {
            if (supervisor == null) {
                endLeftover();
                supervisor = Thread.ofVirtual().name("follow-" + timeline.id()).start(this::supervise);
                imageMaker = Thread.ofVirtual().name("follow-images-" + timeline.id()).start(this::makeImages);
            }
        }

        /** Checks every housekeeping interval whether a new image is due, and makes it. */
        private void makeImages() {
            Duration every = repository.config().housekeepingInterval().orElse(Duration.ofSeconds(30));
            while (!closed) {
                try {
                    Thread.sleep(every); // a periodic task's pace, not a synchronization
                    images.makeIfDue(timeline, Followers.this::settle, ClientTools.newest(following.environment()));
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (!closed) {
                        log.warn("cannot make an image of followed timeline {}: {}", timeline.id(), e.getMessage());
                    }
                }
            }
        }

        /** A receiver a killed daemon left running writes into the same directory: it is ended first. */
        private void endLeftover() {
            dev.zenith.PidFile.liveProcess(timeline.dir().resolve(PID_FILE))
                    .filter(h -> h.info().command().map(c -> c.endsWith("pg_receivewal")).orElse(false))
                    .ifPresent(h -> {
                        h.destroy();
                        h.onExit().join();
                    });
        }

        private void supervise() {
            Duration wait = RETRY_MIN;
            while (!closed) {
                long started = System.nanoTime();
                try {
                    ClientTools tools = ClientTools.newest(following.environment());
                    // Not --synchronous: an fsync per message cost the source a quarter of its pgbench tps on this
                    // 2-core machine (docs/BENCHMARKS.md). Settling reads what was written, flushed or not; a crash
                    // of the laptop loses only unflushed WAL of the open segment, which pg_receivewal fetches
                    // again from the start of that segment, and settled points are in wal-partial/, written durably.
                    List<String> cmd = new java.util.ArrayList<>(List.of(tools.tool("pg_receivewal").toString(), "-w",
                            "-d", following.conninfo(), "-D", timeline.wal().archiveDir().toString(), "--no-loop", "-s", "1"));
                    if (following.slot() != null) {
                        cmd.addAll(List.of("-S", following.slot()));
                    }
                    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                    ClientRun.useCallerEnvironment(pb.environment(), following.environment(), "zenith-follow");
                    Process p = pb.start();
                    process = p;
                    Files.writeString(timeline.dir().resolve(PID_FILE), Long.toString(p.pid()));
                    log.info("receiving the WAL of {} into timeline {} (pg_receivewal pid {})",
                            new Source.Server(following.conninfo()).shown(), timeline.id(), p.pid());
                    int exit = p.waitFor();
                    if (closed) {
                        return;
                    }
                    String said = lastLine();
                    if (said.contains("has already been removed")) {
                        problem = "the source no longer has WAL that was not received yet (" + said + "): import it again,"
                                + " or with --slot NAME so that the source keeps its WAL until it is received";
                        log.warn("following {} stopped: {}", timeline.id(), problem);
                        return;
                    }
                    problem = "pg_receivewal exited with " + exit + ": " + said;
                    log.warn("receiving into timeline {}: {}; starting it again", timeline.id(), problem);
                } catch (IOException | RuntimeException e) {
                    problem = e.getMessage();
                    log.warn("cannot receive into timeline {}: {}", timeline.id(), e.getMessage());
                } catch (InterruptedException e) {
                    return;
                }
                if (System.nanoTime() - started > RETRY_MAX.toNanos()) {
                    wait = RETRY_MIN; // it ran for a while: the next failure is a new one
                }
                try {
                    Thread.sleep(wait); // a backoff between restarts, not a synchronization
                } catch (InterruptedException e) {
                    return;
                }
                wait = wait.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : wait.multipliedBy(2);
            }
        }

        private String lastLine() {
            return dev.zenith.postgres.PgCtl.lastLines(logFile);
        }

        /** Where the source's flushed WAL stands now; empty when it does not answer (offline). */
        Optional<Lsn> sourceFlushed() {
            try {
                ClientRun run = new ClientRun(ClientTools.newest(following.environment()), following.environment(), logFile);
                return Optional.of(new SourceServer(new Source.Server(following.conninfo()), run).flushedLsn());
            } catch (ZenithException unreachable) {
                return Optional.empty();
            }
        }

        /** How it stands, measured at most every {@link #LAG_EVERY}: asking the source costs a connection. */
        synchronized FollowState state() {
            if (lastState == null || System.nanoTime() - lastStateNanos > LAG_EVERY.toNanos()) {
                Process p = process;
                String status = problem != null && (p == null || !p.isAlive()) ? problem : null;
                Lsn received = receivedEnd();
                Optional<Lsn> source = sourceFlushed();
                long lagBytes = source.map(s -> Math.max(0, s.value() - received.value())).orElse(-1L);
                java.time.Instant now = java.time.Instant.now();
                if (lagBytes == 0) {
                    caughtUpAt = now;
                }
                long lagSeconds = lagBytes < 0 || caughtUpAt == null ? -1 : lagBytes == 0 ? 0
                        : Duration.between(caughtUpAt, now).toSeconds();
                lastState = new FollowState(new Source.Server(following.conninfo()).shown(), following.slot(), following.since(),
                        p != null && p.isAlive(), status, received.toString(), lagBytes, lagSeconds);
                lastStateNanos = System.nanoTime();
            }
            return lastState;
        }

        /** The end of the valid WAL received so far, read where pg_receivewal writes it. */
        private Lsn receivedEnd() {
            try {
                return endOfValidWal(timeline, receiving(timeline));
            } catch (UncheckedIOException completedMeanwhile) {
                return timeline.metadata().lastLsn();
            }
        }

        void close() {
            closed = true;
            Process p = process;
            if (p != null) {
                p.destroy();
                try {
                    p.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (supervisor != null) {
                supervisor.interrupt();
            }
            if (imageMaker != null) {
                imageMaker.interrupt();
                try {
                    imageMaker.join(); // an image half made is removed by the thread itself
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                Files.deleteIfExists(timeline.dir().resolve(PID_FILE));
            } catch (IOException ignored) {
                // a stale pid file is checked against the process's command before use
            }
        }
    }
}
