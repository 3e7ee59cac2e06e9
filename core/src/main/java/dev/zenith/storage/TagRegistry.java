package dev.zenith.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.AtomicFiles;
import dev.zenith.Json;
import dev.zenith.TagName;
import dev.zenith.TimelineId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * {@code tags.json}: every tag by name. Readers see an immutable snapshot; {@code lock} serializes
 * changes, each written whole and atomically.
 */
public final class TagRegistry {

    private final Path file;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Map<TagName, Tag> tags;

    TagRegistry(Path file) {
        this.file = file;
        this.tags = Files.exists(file) ? read(file) : Map.of();
    }

    public Optional<Tag> get(TagName name) {
        return Optional.ofNullable(tags.get(name));
    }

    /** All tags, sorted by name. */
    public List<Tag> all() {
        return List.copyOf(tags.values());
    }

    /** The tags pointing into {@code timeline}. */
    public List<Tag> on(TimelineId timeline) {
        return tags.values().stream().filter(t -> t.timeline().equals(timeline)).toList();
    }

    /** Adds a tag; false if the name is taken. */
    boolean add(Tag tag) {
        return update(m -> m.putIfAbsent(tag.name(), tag) == null);
    }

    boolean remove(TagName name) {
        return update(m -> m.remove(name) != null);
    }

    private boolean update(Predicate<Map<TagName, Tag>> change) {
        lock.lock();
        try {
            Map<TagName, Tag> updated = new TreeMap<>(Comparator.comparing(TagName::value));
            updated.putAll(tags);
            if (!change.test(updated)) {
                return false;
            }
            AtomicFiles.writeJson(file, updated.values());
            tags = Collections.unmodifiableMap(updated);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private static Map<TagName, Tag> read(Path file) {
        try {
            List<Tag> onDisk = Json.MAPPER.readValue(file.toFile(), new TypeReference<>() { });
            Map<TagName, Tag> result = new TreeMap<>(Comparator.comparing(TagName::value));
            onDisk.forEach(t -> result.put(t.name(), t));
            return Collections.unmodifiableMap(result);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
