package dev.zenith.compute;

import dev.zenith.TimelineId;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which superuser zenith logs in as on a timeline's computes: the repository's, except under a root
 * imported to follow its source, whose data is the source's untouched and has the source's superuser
 * only ({@code TimelineMetadata.superuser}). Thread-safety: a concurrent cache; a timeline's root never changes.
 */
final class Superusers {

    private final Repository repository;
    private final Map<TimelineId, String> byTimeline = new ConcurrentHashMap<>();

    Superusers(Repository repository) {
        this.repository = repository;
    }

    String of(TimelineId timeline) {
        return byTimeline.computeIfAbsent(timeline, this::lookUp);
    }

    private String lookUp(TimelineId id) {
        Optional<Timeline> t = repository.timelineIfPresent(id);
        while (t.isPresent()) {
            if (t.get().metadata().superuser() != null) {
                return t.get().metadata().superuser();
            }
            if (t.get().metadata().ancestor() == null) {
                break;
            }
            t = repository.timelineIfPresent(t.get().metadata().ancestor());
        }
        return repository.config().superuser();
    }
}
