package dev.zenith.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.TimelineId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** {@code branches.json}: each branch name and the timeline it points at. See {@link JsonFileMap} for who sees what when. */
public final class BranchRegistry {

    private final JsonFileMap<BranchName, TimelineId> branches;

    BranchRegistry(Path file) {
        this.branches = new JsonFileMap<>(file, Comparator.comparing(BranchName::value), Files.exists(file) ? read(file) : Map.of(),
                BranchRegistry::onDisk);
    }

    public Optional<TimelineId> get(BranchName name) {
        return Optional.ofNullable(branches.snapshot().get(name));
    }

    /** All branches, sorted by name. */
    public Map<BranchName, TimelineId> all() {
        return branches.snapshot();
    }

    /** Adds a branch; false if the name is taken. */
    boolean add(BranchName name, TimelineId timeline) {
        return branches.update(m -> m.putIfAbsent(name, timeline) == null);
    }

    /** Points {@code name} at another timeline and adds {@code also}, in one atomic write (for reset). */
    boolean repoint(BranchName name, TimelineId timeline, BranchName also, TimelineId alsoTimeline) {
        return branches.update(m -> {
            if (!m.containsKey(name) || (also != null && m.containsKey(also))) {
                return false;
            }
            m.put(name, timeline);
            if (also != null) {
                m.put(also, alsoTimeline);
            }
            return true;
        });
    }

    /** What a rename did. */
    enum Renamed { RENAMED, NO_SUCH_BRANCH, NAME_TAKEN }

    /** Renames a branch; when refused, says why as the map stands after the refusal. */
    Renamed rename(BranchName from, BranchName to) {
        boolean renamed = branches.update(m -> {
            if (!m.containsKey(from) || m.containsKey(to)) {
                return false;
            }
            m.put(to, m.remove(from));
            return true;
        });
        return renamed ? Renamed.RENAMED : get(from).isEmpty() ? Renamed.NO_SUCH_BRANCH : Renamed.NAME_TAKEN;
    }

    /** Removes {@code name} if it still points at {@code timeline}; false if it is gone or points elsewhere. */
    boolean remove(BranchName name, TimelineId timeline) {
        return branches.update(m -> m.remove(name, timeline));
    }

    /** The name of the branch pointing at a timeline, if any. */
    public Optional<BranchName> nameOf(TimelineId timeline) {
        return branches.snapshot().entrySet().stream().filter(e -> e.getValue().equals(timeline)).map(Map.Entry::getKey).findFirst();
    }

    /** As the file has always held it: name -> timeline id, sorted. */
    private static Map<String, String> onDisk(Map<BranchName, TimelineId> branches) {
        Map<String, String> onDisk = new TreeMap<>();
        branches.forEach((k, v) -> onDisk.put(k.value(), v.value()));
        return onDisk;
    }

    private static Map<BranchName, TimelineId> read(Path file) {
        try {
            Map<String, String> onDisk = Json.MAPPER.readValue(file.toFile(), new TypeReference<>() { });
            Map<BranchName, TimelineId> result = new HashMap<>();
            onDisk.forEach((k, v) -> result.put(new BranchName(k), new TimelineId(v)));
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
