package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.WalPoint;
import dev.zenith.model.TagInfo;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Tag;
import dev.zenith.storage.Timeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;

/**
 * Tags: names for points of a branch's history ({@code before-migration}), resolved like any point
 * (the branch's end now writes a restore point when its compute runs) under the branch's timeline lock.
 */
public final class TagOperations {

    private static final Logger log = LoggerFactory.getLogger(TagOperations.class);

    private final Repository repository;
    private final TimelineLocks locks;
    private final BranchPoints points;

    TagOperations(Repository repository, TimelineLocks locks, BranchPoints points) {
        this.repository = repository;
        this.locks = locks;
        this.points = points;
    }

    /** Names {@code at} of {@code branch} (null: its end now). */
    public TagInfo create(TagName name, BranchName branch, PointInTime at) {
        repository.tags().requireNewName(name);
        Tag tag = locks.withBranch(repository, branch, "tagged", timeline -> {
            WalPoint point = points.resolve(timeline, branch, "tag " + name, at);
            Tag made = new Tag(name, timeline.id(), point.lsn(), point.tli(), Instant.now(), at == null ? null : at.toString());
            repository.tags().add(made);
            return made;
        });
        log.info("tag {} names {} at {}{}", name, branch, tag.lsn(), at == null ? "" : " (" + at + ")");
        return info(tag);
    }

    public TagInfo delete(TagName name) {
        Tag tag = repository.tags().delete(name);
        log.info("tag {} deleted", name);
        return info(tag);
    }

    public List<TagInfo> list() {
        return repository.tags().all().stream().map(this::info).toList();
    }

    private TagInfo info(Tag tag) {
        return new TagInfo(tag.name(), repository.branches().nameOf(tag.timeline()).orElse(null), tag.timeline().value(),
                tag.lsn().toString(), tag.createdAt().toString(), tag.requested());
    }
}
