package dev.zenith.remote;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.AtomicFiles;
import dev.zenith.Json;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The repository's remotes, kept in {@code remotes.json} (written atomically, readable by a human). */
public final class Remotes {

    static final String FILE = "remotes.json";

    private final Path file;

    public Remotes(Path repositoryRoot) {
        this.file = repositoryRoot.resolve(FILE);
    }

    public List<Remote> list() {
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            return Json.MAPPER.readValue(file.toFile(), new TypeReference<List<Remote>>() { });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public Optional<Remote> find(String name) {
        return list().stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** The remote named {@code name}; refused, with how to add it, when there is none. */
    public Remote require(String name) {
        return find(name).orElseThrow(() -> ZenithException.notFound("no remote is named \"" + name + "\"",
                "zenith remote list shows them; zenith remote add " + name + " s3://BUCKET/PREFIX adds it"));
    }

    public void add(Remote remote) {
        List<Remote> remotes = new ArrayList<>(list());
        if (remotes.stream().anyMatch(r -> r.name().equals(remote.name()))) {
            throw ZenithException.conflict("remote " + remote.name() + " already exists",
                    "zenith remote remove " + remote.name() + " first, or pick another name");
        }
        remotes.add(remote);
        remotes.sort(Comparator.comparing(Remote::name));
        AtomicFiles.writeJson(file, remotes);
    }

    public void remove(String name) {
        List<Remote> remotes = new ArrayList<>(list());
        if (!remotes.removeIf(r -> r.name().equals(name))) {
            throw ZenithException.notFound("no remote is named \"" + name + "\"", "zenith remote list shows them");
        }
        AtomicFiles.writeJson(file, remotes);
    }
}
