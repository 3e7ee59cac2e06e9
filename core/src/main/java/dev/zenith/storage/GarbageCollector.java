package dev.zenith.storage;

import dev.zenith.Failpoints;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes the images and WAL segments that no branch needs. A timeline needs, for each of its points
 * (its latest state, its retention horizon, every child's branch point and every tag), the newest image at or
 * before that point on its chain and all WAL from that image's start on, through every timeline the
 * chain passes. Everything older on a timeline is removed, as are timelines no branch reaches.
 */
public final class GarbageCollector {

    /** What one collection removed. */
    public record Result(int segments, int images, int timelines, long freedBytes) {
    }

    private final Repository repository;

    public GarbageCollector(Repository repository) {
        this.repository = repository;
    }

    /** Collects, keeping what each branch's retention window, counted back from {@code now}, can still show. */
    public Result collect(Instant now) {
        // branches and tags keep history; a timeline no name reaches (a deleted branch's) keeps only what they need
        Set<TimelineId> named = new HashSet<>(repository.branches().all().values());
        Set<TimelineId> roots = new HashSet<>(named);
        repository.tags().all().forEach(tag -> roots.add(tag.timeline()));
        Set<TimelineId> reachable = new HashSet<>();
        for (TimelineId id : roots) {
            // a damaged repository's name of a missing timeline has nothing left to keep
            for (Timeline t = repository.timelineIfPresent(id).orElse(null); t != null && reachable.add(t.id());
                 t = t.metadata().ancestor() == null ? null : repository.timeline(t.metadata().ancestor())) {
                // ancestors of branches are needed too
            }
        }
        Map<TimelineId, Lsn> floors = new HashMap<>();
        Set<Path> keptImages = new HashSet<>();
        for (TimelineId id : reachable) {
            Timeline t = repository.timeline(id);
            List<Lsn> points = new ArrayList<>();
            if (named.contains(id)) {
                points.add(null); // the latest state
                points.add(horizonLsn(t, repository.retention(t).horizon(now)));
            }
            for (Timeline child : repository.children(id)) {
                if (reachable.contains(child.id())) {
                    points.add(child.metadata().ancestorLsn());
                }
            }
            repository.tags().on(id).forEach(tag -> points.add(tag.lsn()));
            for (Lsn point : points) {
                need(t, point, floors, keptImages);
            }
        }
        int segments = 0;
        int images = 0;
        int timelines = 0;
        long freed = 0;
        for (Timeline t : allTimelines()) {
            if (!reachable.contains(t.id())) {
                freed += repository.deleteTimeline(t);
                timelines++;
                continue;
            }
            for (Image image : t.images()) {
                if (!keptImages.contains(image.dataDir())) {
                    freed += repository.discard(image.dataDir());
                    images++;
                    Failpoints.reach("gc-removing");
                }
            }
            Lsn floor = floors.getOrDefault(t.id(), t.startLsn());
            Map<WalFileName, Path> archived = t.wal().archived();
            for (Map<WalFileName, Path> files : List.of(archived, t.wal().partial())) {
                for (Map.Entry<WalFileName, Path> f : files.entrySet()) {
                    WalFileName name = f.getKey();
                    boolean beforeFloor = !name.history()
                            && Long.compareUnsigned((name.segmentNumber() + 1) * WalFileName.SEGMENT_SIZE, floor.value()) <= 0;
                    boolean superseded = files != archived && archived.containsKey(name);
                    if (beforeFloor || superseded) {
                        freed += size(f.getValue());
                        delete(f.getValue());
                        segments++;
                        Failpoints.reach("gc-removing");
                    }
                }
            }
        }
        return new Result(segments, images, timelines, freed);
    }

    /** Marks what showing {@code point} of {@code timeline} (null: its latest state) needs. */
    private void need(Timeline timeline, Lsn point, Map<TimelineId, Lsn> floors, Set<Path> keptImages) {
        Lsn upTo = point;
        for (Timeline t = timeline; t != null; ) {
            Optional<Image> image = upTo == null ? t.newestImage() : t.newestImageAtOrBefore(upTo);
            if (image.isPresent()) {
                keptImages.add(image.get().dataDir());
                lower(floors, t.id(), image.get().walStart());
                return;
            }
            lower(floors, t.id(), t.startLsn());
            upTo = t.metadata().ancestorLsn();
            t = t.metadata().ancestor() == null ? null : repository.timeline(t.metadata().ancestor());
        }
    }

    private static void lower(Map<TimelineId, Lsn> floors, TimelineId id, Lsn lsn) {
        floors.merge(id, lsn, (a, b) -> a.isBefore(b) ? a : b);
    }

    /**
     * A safe lower bound of the LSN of a timeline's state at {@code horizon}: the end of its newest
     * archived segment last written before that time (every record there is older), or its start.
     */
    private static Lsn horizonLsn(Timeline t, Instant horizon) {
        Lsn bound = t.startLsn();
        for (Map.Entry<WalFileName, Path> f : t.wal().archived().entrySet()) {
            if (f.getKey().history()) {
                continue;
            }
            try {
                if (Files.getLastModifiedTime(f.getValue()).toInstant().isBefore(horizon)) {
                    Lsn end = new Lsn((f.getKey().segmentNumber() + 1) * WalFileName.SEGMENT_SIZE);
                    bound = end.isAfter(bound) ? end : bound;
                }
            } catch (IOException e) {
                return t.startLsn();
            }
        }
        return bound;
    }

    private List<Timeline> allTimelines() {
        try (Stream<Path> dirs = Files.list(repository.root().resolve("timelines"))) {
            return dirs.filter(d -> Files.exists(d.resolve(Timeline.METADATA)))
                    .map(d -> repository.timeline(new TimelineId(d.getFileName().toString()))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list timelines", e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + file, e);
        }
    }
}
