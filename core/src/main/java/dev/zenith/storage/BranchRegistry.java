package dev.zenith.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.AtomicFiles;
import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.TimelineId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/** {@code branches.json}: each branch name and the timeline it points at. */
public final class BranchRegistry {

    private final Path file;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Map<BranchName, TimelineId> branches;

    BranchRegistry(Path file) {
        this.file = file;
        this.branches = Files.exists(file) ? read(file) : Map.of();
    }

    public Optional<TimelineId> get(BranchName name) {
        return Optional.ofNullable(branches.get(name));
    }

    /** All branches, sorted by name. */
    public Map<BranchName, TimelineId> all() {
        return branches;
    }

    /** Adds a branch; false if the name is taken. */
    boolean add(BranchName name, TimelineId timeline) {
        return update(m -> m.putIfAbsent(name, timeline) == null);
    }

    /** Points {@code name} at another timeline and adds {@code also}, in one atomic write (for reset). */
    boolean repoint(BranchName name, TimelineId timeline, BranchName also, TimelineId alsoTimeline) {
        return update(m -> {
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

    boolean rename(BranchName from, BranchName to) {
        return update(m -> {
            if (!m.containsKey(from) || m.containsKey(to)) {
                return false;
            }
            m.put(to, m.remove(from));
            return true;
        });
    }

    boolean remove(BranchName name) {
        return update(m -> m.remove(name) != null);
    }

    /** Applies a change to a copy and writes it atomically when the change says so. */
    private boolean update(java.util.function.Predicate<Map<BranchName, TimelineId>> change) {
        lock.lock();
        try {
            Map<BranchName, TimelineId> updated = new TreeMap<>(java.util.Comparator.comparing(BranchName::value));
            updated.putAll(branches);
            if (!change.test(updated)) {
                return false;
            }
            Map<String, String> onDisk = new TreeMap<>();
            updated.forEach((k, v) -> onDisk.put(k.value(), v.value()));
            AtomicFiles.writeJson(file, onDisk);
            branches = java.util.Collections.unmodifiableMap(updated);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The name of the branch pointing at a timeline, if any. */
    public Optional<BranchName> nameOf(TimelineId timeline) {
        return branches.entrySet().stream().filter(e -> e.getValue().equals(timeline)).map(Map.Entry::getKey).findFirst();
    }

    private static Map<BranchName, TimelineId> read(Path file) {
        try {
            Map<String, String> onDisk = Json.MAPPER.readValue(file.toFile(), new TypeReference<>() { });
            Map<BranchName, TimelineId> result = new TreeMap<>(java.util.Comparator.comparing(BranchName::value));
            onDisk.forEach((k, v) -> result.put(new BranchName(k), new TimelineId(v)));
            return java.util.Collections.unmodifiableMap(result);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
