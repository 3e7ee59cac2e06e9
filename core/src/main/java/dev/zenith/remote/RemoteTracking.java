package dev.zenith.remote;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.AtomicFiles;
import dev.zenith.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What this repository knows of one remote, kept under {@code remotes/NAME/}, as git keeps its
 * remote-tracking refs:
 * <ul>
 *   <li>{@code branches/BRANCH.json}: the manifest this repository and the remote last agreed on (a push,
 *   a pull, a clone), the common base against which both sides' changes are judged;</li>
 *   <li>{@code packed.json}: which local file (by path, size and modification time) is which object, so a
 *   push after a few commits hashes and compresses only the new files.</li>
 * </ul>
 * Not thread-safe: the daemon serialises every push and pull of a remote ({@code BranchSync}).
 */
public final class RemoteTracking {

    private final Path dir;
    private Map<String, ObjectPacker.ObjectRef> packed;

    public RemoteTracking(Path repositoryRoot, String remote) {
        this.dir = repositoryRoot.resolve("remotes").resolve(remote);
    }

    /** The manifest of {@code branch} this repository last agreed on with the remote. */
    public Optional<BranchManifest> base(String branch) {
        Path file = baseFile(branch);
        return Files.exists(file) ? Optional.of(AtomicFiles.readJson(file, BranchManifest.class)) : Optional.empty();
    }

    void agreed(BranchManifest manifest) {
        Path file = baseFile(manifest.branch());
        createParent(file);
        AtomicFiles.writeJson(file, manifest);
    }

    /** Forgets what this repository knew of the remote's {@code branch} (the branch was deleted or renamed here). */
    public void forget(String branch) {
        try {
            Files.deleteIfExists(baseFile(branch));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + baseFile(branch), e);
        }
    }

    /** The object {@code file} was packed into, if it has not changed since. */
    Optional<ObjectPacker.ObjectRef> packedAs(Path file) {
        return Optional.ofNullable(packed().get(fingerprint(file)));
    }

    /**
     * The SHA-256 of {@code file}'s content: what a push learned of it when it has not changed since,
     * else read now. Comparisons ask for captured open segments (up to 16 MB) every time they run.
     */
    String hashOf(Path file) {
        return packedAs(file).map(ObjectPacker.ObjectRef::sha256).orElseGet(() -> ObjectPacker.hashOf(file));
    }

    /** The object the image in {@code dataDir} was packed into; images never change once made. */
    Optional<ObjectPacker.ObjectRef> packedImage(Path dataDir) {
        return Optional.ofNullable(packed().get(dataDir.toAbsolutePath() + "|image"));
    }

    void rememberImage(Path dataDir, ObjectPacker.ObjectRef ref) {
        packed().put(dataDir.toAbsolutePath() + "|image", ref);
    }

    void rememberPacked(Path file, ObjectPacker.ObjectRef ref) {
        packed().put(fingerprint(file), ref);
    }

    /** Keeps what {@link #rememberPacked} learned, for files that still exist. */
    void savePacked() {
        Path file = dir.resolve("packed.json");
        createParent(file);
        packed().keySet().removeIf(key -> !Files.exists(Path.of(key.substring(0, key.indexOf('|')))));
        AtomicFiles.writeJson(file, packed());
    }

    private Map<String, ObjectPacker.ObjectRef> packed() {
        if (packed == null) {
            Path file = dir.resolve("packed.json");
            try {
                packed = Files.exists(file)
                        ? new HashMap<>(Json.MAPPER.readValue(file.toFile(), new TypeReference<Map<String, ObjectPacker.ObjectRef>>() { }))
                        : new HashMap<>();
            } catch (IOException e) {
                packed = new HashMap<>(); // a cache: a damaged one costs a slower push, nothing more
            }
        }
        return packed;
    }

    private static String fingerprint(Path file) {
        try {
            return file.toAbsolutePath() + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private Path baseFile(String branch) {
        return dir.resolve("branches").resolve(branch + ".json");
    }

    private static void createParent(Path file) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file.getParent(), e);
        }
    }
}
