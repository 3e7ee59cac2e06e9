package dev.zenith.storage;

import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * How to rebuild a timeline's latest state in an empty data directory by point-in-time recovery:
 * the image to copy, the WAL that recovery may restore, and the LSN before which replay must stop.
 *
 * <p>A timeline that never had a compute shows its ancestor's state at the branch point, so replay
 * stops before the first record at or after that LSN ({@code recovery_target_lsn} with
 * {@code recovery_target_inclusive = off}): whatever the ancestor wrote later never reaches it. Once
 * promoted, its own history file tells Postgres where it left the ancestor, and recovery runs to the
 * end of its WAL.
 *
 * <p>Postgres timeline ids ("tli") restart from the same numbers on every branch, so each ancestor
 * contributes only files of the tlis it had at the branch point; higher ones are its own later life.
 *
 * <p>A point at the very end of the WAL there is, with no record at it to stop before (the end of what a
 * followed source sent so far), is reached by cutting the WAL instead: {@code walEnd} says where, the
 * restore view offers nothing after it, and recovery replays all it is given.
 *
 * <p>A plan is fixed when a data directory is prepared from its image and saved beside it, so that
 * the first start replays exactly what fits that image, however late it comes.
 */
public record RecoveryPlan(Image image, Optional<Lsn> stopBefore, List<WalSource> sources, Optional<Lsn> walEnd) {

    public RecoveryPlan {
        walEnd = walEnd == null ? Optional.empty() : walEnd; // plans saved before walEnd existed
    }

    public RecoveryPlan(Image image, Optional<Lsn> stopBefore, List<WalSource> sources) {
        this(image, stopBefore, sources, Optional.empty());
    }

    /**
     * WAL of one timeline that a recovery may restore: files of Postgres timelines up to {@code maxTli},
     * and of segments up to the one after {@code upTo}, the last LSN the recovery reads there (its stop,
     * or where the chain leaves that timeline; null: all of it). The segment after allows for a record
     * that starts before {@code upTo} and ends in the next segment; later ones, such as a running
     * parent's WAL written since the branch point, are never offered.
     */
    public record WalSource(TimelineId timeline, int maxTli, boolean historyOnly, Lsn upTo) {

        boolean offers(WalFileName name) {
            if (name.history()) {
                return name.tli() <= maxTli;
            }
            return !historyOnly && name.tli() <= maxTli
                    && (upTo == null || name.segmentNumber() <= upTo.value() / WalFileName.SEGMENT_SIZE + 1);
        }
    }

    private record Link(Timeline timeline, int maxTli, Lsn upTo) {
    }

    public static RecoveryPlan latest(Repository repository, Timeline timeline) {
        List<Link> chain = chain(repository, new Link(timeline, Integer.MAX_VALUE, null));
        Image image = newestImage(repository, timeline, chain);
        boolean promoted = timeline.wal().hasHistory();
        Lsn branchPoint = timeline.metadata().lastLsn();
        return plan(image, promoted ? null : branchPoint, chain);
    }

    /**
     * This plan, or, when the WAL holding its stop ends there (no record at it to stop before: the end of
     * what a followed source sent so far), the same recovery as a cut: the WAL offered ends at the stop,
     * and recovery replays all of it. For a read-write start, which promotes at the end either way; read
     * from the files the view would offer now, so a running parent's live WAL counts.
     */
    public RecoveryPlan cutWhereWalEnds(Repository repository, Function<TimelineId, Optional<Path>> livePgWal) {
        if (stopBefore.isEmpty() || walEnd.isPresent()) {
            return this;
        }
        Lsn point = stopBefore.get();
        long segno = point.value() / WalFileName.SEGMENT_SIZE;
        Optional<Map.Entry<WalFileName, WalFile>> holding = files(repository, livePgWal).entrySet().stream()
                .filter(e -> !e.getKey().history() && e.getKey().segmentNumber() == segno).reduce((a, b) -> b);
        if (holding.isEmpty()) {
            return this;
        }
        WalFileName name = holding.get().getKey();
        try {
            Optional<Lsn> end = new WalReader(Map.of(name, holding.get().getValue().path()), TimelineHistory.none(name.tli()))
                    .endOfValidWal(point);
            return end.isPresent() && end.get().compareTo(point) <= 0
                    ? new RecoveryPlan(image, Optional.empty(), sources, stopBefore) : this;
        } catch (UncheckedIOException gone) {
            return this; // a live segment recycled as we looked: its records go on, so the stop is there
        }
    }

    /** The state of {@code timeline} at {@code point}: a read-only view of its past. */
    public static RecoveryPlan at(Repository repository, Timeline timeline, WalPoint point) {
        List<Link> chain = chain(repository, new Link(timeline, point.tli(), point.lsn()));
        return plan(newestImage(repository, timeline, chain), point.lsn(), chain);
    }

    private static List<Link> chain(Repository repository, Link first) {
        List<Link> chain = new ArrayList<>();
        chain.add(first);
        for (Timeline t = first.timeline(); t.metadata().ancestor() != null; ) {
            Timeline ancestor = repository.timeline(t.metadata().ancestor());
            chain.add(new Link(ancestor, t.metadata().ancestorTli(), t.metadata().ancestorLsn()));
            t = ancestor;
        }
        return chain;
    }

    private static Image newestImage(Repository repository, Timeline timeline, List<Link> chain) {
        return chain.stream()
                .map(l -> l.upTo() == null ? l.timeline().newestImage() : l.timeline().newestImageAtOrBefore(l.upTo()))
                .flatMap(Optional::stream).findFirst()
                .orElseThrow(() -> ZenithException.failed("no image to rebuild timeline " + timeline.id() + " from",
                        "the repository is damaged: restore " + repository.root() + " from a backup"));
    }

    /** Replay to the end of the chain's WAL, or stop before {@code stopBefore}. */
    private static RecoveryPlan plan(Image image, Lsn stopBefore, List<Link> chain) {
        if (stopBefore != null && image.clean() && image.lsn().equals(stopBefore)) {
            // The image is the state at the point: replay nothing. History files still tell
            // Postgres which timeline ids are taken, so a promotion picks a fresh one.
            return new RecoveryPlan(image, Optional.empty(),
                    chain.stream().map(l -> new WalSource(l.timeline().id(), l.maxTli(), true, l.upTo())).toList());
        }
        List<WalSource> sources = new ArrayList<>();
        for (Link l : chain) {
            Lsn upTo = sources.isEmpty() && stopBefore != null ? stopBefore : l.upTo();
            sources.add(new WalSource(l.timeline().id(), l.maxTli(), false, upTo));
        }
        return new RecoveryPlan(image, Optional.ofNullable(stopBefore), sources);
    }

    /** A file recovery may restore, the timeline it comes from, and whether a running compute still writes it. */
    public record WalFile(Path path, TimelineId source, boolean live) {
    }

    /**
     * The files this plan's recovery may restore, by name: from each source in chain order (the
     * timeline's own first), a complete archived file, else one in the {@code pg_wal} of the source's
     * running compute ({@code livePgWal}), else the open segment captured at its last clean stop.
     */
    public Map<WalFileName, WalFile> files(Repository repository, Function<TimelineId, Optional<Path>> livePgWal) {
        Map<WalFileName, WalFile> chosen = new java.util.TreeMap<>();
        for (WalSource source : sources) {
            WalArchive wal = repository.timeline(source.timeline()).wal();
            Map<WalFileName, Path> archived = wal.archived();
            Map<WalFileName, Path> partial = wal.partial();
            Map<WalFileName, Path> live = livePgWal.apply(source.timeline()).map(WalArchive::list).orElse(Map.of());
            Set<WalFileName> names = new TreeSet<>();
            names.addAll(archived.keySet());
            names.addAll(partial.keySet());
            names.addAll(live.keySet());
            for (WalFileName name : names) {
                if (!source.offers(name) || chosen.containsKey(name)) {
                    continue;
                }
                chosen.put(name, archived.containsKey(name) ? new WalFile(archived.get(name), source.timeline(), false)
                        : live.containsKey(name) ? new WalFile(live.get(name), source.timeline(), true)
                        : new WalFile(partial.get(name), source.timeline(), false));
            }
        }
        return chosen;
    }

    /**
     * Fills {@code dir} with the files recovery may restore, named as Postgres asks for them. Archived
     * files are linked; segments still only in the {@code pg_wal} of a running compute are copied,
     * since Postgres keeps writing and recycling them.
     */
    public void writeRestoreView(Repository repository, Path dir, Function<TimelineId, Optional<Path>> livePgWal) {
        FileTrees.deleteTree(dir);
        try {
            Files.createDirectories(dir);
            for (Map.Entry<WalFileName, WalFile> e : files(repository, livePgWal).entrySet()) {
                Path target = dir.resolve(e.getKey().toString());
                if (walEnd.isPresent() && !e.getKey().history()) {
                    long cut = walEnd.get().value() / WalFileName.SEGMENT_SIZE;
                    if (e.getKey().segmentNumber() == cut) {
                        copyCut(e.getValue().path(), target, walEnd.get().value() % WalFileName.SEGMENT_SIZE);
                    }
                    if (e.getKey().segmentNumber() >= cut) {
                        continue;
                    }
                }
                if (!e.getValue().live() || !copyLive(e.getValue().path(), target)) {
                    Optional<Path> archived = e.getValue().live()
                            ? archivedSince(repository.timeline(e.getValue().source()).wal(), e.getKey())
                            : Optional.of(e.getValue().path());
                    if (archived.isPresent() && Files.exists(archived.get())) {
                        Files.createSymbolicLink(target, archived.get().toAbsolutePath());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the WAL for recovery in " + dir, e);
        }
    }

    /**
     * Where a live segment went when its compute archived and recycled it while we looked: the archive, or,
     * when the compute stopped meanwhile and it was the open segment, {@code wal-partial/} (a history run
     * once failed a start with "recovery ended before configured recovery target was reached" that way).
     */
    private static Optional<Path> archivedSince(WalArchive wal, WalFileName name) {
        return Optional.ofNullable(wal.archived().get(name)).or(() -> Optional.ofNullable(wal.partial().get(name)));
    }

    /** Copies a segment with everything from {@code offset} on zeroed: where recovery finds the end of WAL. */
    private static void copyCut(Path source, Path target, long offset) throws IOException {
        Files.copy(source, target);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(target, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer zeros = java.nio.ByteBuffer.allocate(64 * 1024);
            for (long pos = offset; pos < ch.size(); pos += zeros.capacity()) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), ch.size() - pos));
                ch.write(zeros, pos);
            }
        }
    }

    private static boolean copyLive(Path source, Path target) throws IOException {
        try {
            Files.copy(source, target);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }
}
