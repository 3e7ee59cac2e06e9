package dev.zenith.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.Json;
import dev.zenith.TagName;
import dev.zenith.TimelineId;
import dev.zenith.ZenithException;

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

    /** Names a point of a timeline; refused when the name is taken. */
    public void add(Tag tag) {
        if (!tags.update(m -> m.putIfAbsent(tag.name(), tag) == null)) {
            throw taken(tag.name(), get(tag.name()).orElse(tag));
        }
    }

    /** Refuses a name that a tag already has. */
    public void requireNewName(TagName name) {
        get(name).ifPresent(existing -> {
            throw taken(name, existing);
        });
    }

    /** Removes a tag; what only it kept goes at the next garbage collection. */
    public Tag delete(TagName name) {
        Tag tag = require(name);
        tags.update(m -> m.remove(name) != null); // a delete racing this one may have removed it first: gone either way
        return tag;
    }

    public Tag require(TagName name) {
        return get(name).orElseThrow(() -> ZenithException.notFound("tag \"" + name + "\" does not exist",
                "zenith tag lists the tags"));
    }

    private static ZenithException taken(TagName name, Tag existing) {
        return ZenithException.conflict("tag \"" + name + "\" already exists (at " + existing.lsn() + ")",
                "choose another name, or delete it first: zenith tag delete " + name);
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
