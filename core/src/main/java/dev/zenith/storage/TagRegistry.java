package dev.zenith.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.TagName;
import dev.zenith.TimelineId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code tags.json}: every tag by name, a list on disk. See {@link JsonFileMap} for who sees what when. */
public final class TagRegistry {

    private final JsonFileMap<TagName, Tag> tags;

    TagRegistry(Path file) {
        this.tags = new JsonFileMap<>(file, Comparator.comparing(TagName::value), Files.exists(file) ? read(file) : Map.of(),
                m -> new ArrayList<>(m.values()));
    }

    public Optional<Tag> get(TagName name) {
        return Optional.ofNullable(tags.snapshot().get(name));
    }

    /** All tags, sorted by name. */
    public List<Tag> all() {
        return List.copyOf(tags.snapshot().values());
    }

    /** The tags pointing into {@code timeline}. */
    public List<Tag> on(TimelineId timeline) {
        return tags.snapshot().values().stream().filter(t -> t.timeline().equals(timeline)).toList();
    }

    /** Adds a tag; false if the name is taken. */
    boolean add(Tag tag) {
        return tags.update(m -> m.putIfAbsent(tag.name(), tag) == null);
    }

    void remove(TagName name) {
        tags.update(m -> m.remove(name) != null);
    }

    private static Map<TagName, Tag> read(Path file) {
        try {
            List<Tag> onDisk = Json.MAPPER.readValue(file.toFile(), new TypeReference<>() { });
            Map<TagName, Tag> result = new LinkedHashMap<>();
            onDisk.forEach(t -> result.put(t.name(), t));
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
