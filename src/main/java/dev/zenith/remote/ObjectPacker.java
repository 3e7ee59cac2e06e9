package dev.zenith.remote;

import dev.zenith.AtomicFiles;
import dev.zenith.ZenithException;
import io.airlift.compress.zstd.ZstdInputStream;
import io.airlift.compress.zstd.ZstdOutputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Turns local files into the remote's data objects and back: zstd-compressed, named by the SHA-256 of
 * their uncompressed content ({@code objects/ab/abcd...}), so a push sends only what the remote lacks and
 * branches share what they have in common. Every download is checked against that name before it is
 * written where it belongs.
 */
public final class ObjectPacker {

    /** An object of the remote: where it is, what its content hashes to, its size before and after compression. */
    public record ObjectRef(String key, String sha256, long size, long storedSize) {
    }

    private final ObjectStore store;
    private final Path scratch;
    private final Transfer transfer;

    public ObjectPacker(ObjectStore store, Path scratch, Transfer transfer) {
        this.store = store;
        this.scratch = scratch;
        this.transfer = transfer;
    }

    /** Uploads {@code file} unless the remote has its content already; {@code uploaded} says which. */
    public record Packed(ObjectRef ref, boolean uploaded) {
    }

    /**
     * Like {@link #pack(Path)}, but a file {@code tracking} saw packed before, unchanged since, is not read
     * again when the remote still has its object.
     */
    public Packed pack(Path file, RemoteTracking tracking) {
        Optional<ObjectRef> known = tracking.packedAs(file);
        Optional<Packed> reused = stillStored(known, known.map(ObjectRef::size).orElse(0L));
        if (reused.isPresent()) {
            return reused.get();
        }
        Packed packed = pack(file);
        tracking.rememberPacked(file, packed.ref());
        return packed;
    }

    /**
     * {@code known}, an object packed before, when the remote still has it; its {@code bytes} of local files
     * then count as done without being read.
     */
    Optional<Packed> stillStored(Optional<ObjectRef> known, long bytes) {
        if (known.isEmpty() || !store.exists(known.get().key())) {
            return Optional.empty();
        }
        transfer.skip(bytes);
        return Optional.of(new Packed(known.get(), false));
    }

    public Packed pack(Path file) {
        try {
            Files.createDirectories(scratch);
            Path compressed = Files.createTempFile(scratch, "object", ".zst");
            try {
                MessageDigest digest = sha256();
                try (InputStream in = new DigestInputStream(transfer.counting(Files.newInputStream(file)), digest);
                     OutputStream out = new ZstdOutputStream(Files.newOutputStream(compressed))) {
                    in.transferTo(out);
                }
                String hash = HexFormat.of().formatHex(digest.digest());
                ObjectRef ref = new ObjectRef(key(hash), hash, Files.size(file), Files.size(compressed));
                return new Packed(ref, store.putIfAbsent(ref.key(), compressed));
            } finally {
                Files.deleteIfExists(compressed);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack " + file + " for the remote", e);
        }
    }

    /** Downloads {@code ref} into {@code target}, checked against its SHA-256; nothing is written when it does not match. */
    public void unpack(ObjectRef ref, Path target) {
        Optional<byte[]> stored = store.get(ref.key());
        if (stored.isEmpty()) {
            throw ZenithException.failed("the remote has no object " + ref.key(),
                    "the remote is damaged: push the branch again from a repository that has it");
        }
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            Path partial = target.resolveSibling(target.getFileName() + ".download");
            MessageDigest digest = sha256();
            try (InputStream in = new DigestInputStream(transfer.counting(new ZstdInputStream(new ByteArrayInputStream(stored.get()))), digest);
                 OutputStream out = Files.newOutputStream(partial)) {
                in.transferTo(out);
            } catch (RuntimeException | IOException corrupt) {
                Files.deleteIfExists(partial);
                throw corrupted(ref, "it does not decompress (" + corrupt.getMessage() + ")");
            }
            String hash = HexFormat.of().formatHex(digest.digest());
            if (!hash.equals(ref.sha256())) {
                Files.deleteIfExists(partial);
                throw corrupted(ref, "its content hashes to " + hash);
            }
            AtomicFiles.moveDurably(partial, target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    private static ZenithException corrupted(ObjectRef ref, String why) {
        return ZenithException.failed("the remote object " + ref.key() + " is corrupted: " + why,
                "nothing local was changed; push the branch again from a repository that has it");
    }

    /** The SHA-256 of {@code file}'s content, as objects are named. */
    static String hashOf(Path file) {
        MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static String key(String sha256) {
        return "objects/" + sha256.substring(0, 2) + "/" + sha256;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
