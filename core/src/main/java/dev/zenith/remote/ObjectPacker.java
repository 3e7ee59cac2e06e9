package dev.zenith.remote;

import dev.zenith.AtomicFiles;
import dev.zenith.ZenithException;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;

import java.io.FilterInputStream;
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
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

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

    /**
     * Downloads at once: decoding and hashing keep a core busy each, so one per core (measured on two
     * cores: 2 at a time beat 1 and 4, and 8 took half as long again); at most 8.
     */
    private static final int PARALLEL_DOWNLOADS = Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 8);

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

    /**
     * Where a downloaded object's content goes as it arrives: a file, or an image's directory unpacked from
     * its tar. Whatever it wrote is discarded when the content turns out not to be the object's.
     */
    public interface Sink {

        void write(InputStream content) throws IOException;

        /** The content is the object's: put what was written where it belongs. */
        default void commit() throws IOException {
        }

        /** The content is not the object's: remove what was written. */
        void discard() throws IOException;
    }

    /** An object to download and where it goes. */
    public record Download(ObjectRef ref, Sink sink) {
    }

    /** {@code ref} to download into {@code target}, which appears only once its content is checked. */
    public Download toFile(ObjectRef ref, Path target) {
        return new Download(ref, fileSink(target));
    }

    /**
     * Downloads every one of {@code downloads}, several at a time, so that fetching one overlaps
     * decompressing, hashing and writing another; the biggest start first, since they finish last. The
     * first failure stops the downloads not yet begun, waits for those under way, and is thrown.
     */
    public void unpackAll(List<Download> downloads) {
        if (downloads.size() < 2) {
            downloads.forEach(this::unpack);
            return;
        }
        List<Download> biggestFirst = downloads.stream()
                .sorted(Comparator.comparingLong((Download d) -> d.ref().storedSize()).reversed()).toList();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL_DOWNLOADS, downloads.size()),
                Thread.ofPlatform().name("remote-download-", 1).daemon().factory());
        try {
            List<Future<?>> running = biggestFirst.stream().map(d -> pool.submit(() -> unpack(d))).collect(Collectors.toList());
            for (Future<?> download : running) {
                download.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("the download was interrupted", "run the command again");
        } finally {
            pool.shutdownNow();
            awaitEnd(pool);
        }
    }

    private static void awaitEnd(ExecutorService pool) {
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Downloads one object into its sink, checked against its SHA-256: content that does not decompress or
     * hashes otherwise leaves nothing written and is named corrupted. When the sink fails, the rest is still
     * read, so a failure caused by corrupted content is told as that rather than as the sink's.
     */
    public void unpack(Download download) {
        ObjectRef ref = download.ref();
        Sink sink = download.sink();
        try {
            Received received = store.read(ref.key(), content -> receive(content, sink)).orElseThrow(() -> ZenithException.failed(
                    "the remote has no object " + ref.key(), "the remote is damaged: push the branch again from a repository that has it"));
            if (received.undecompressable() != null) {
                sink.discard();
                throw corrupted(ref, "it does not decompress (" + received.undecompressable().getMessage() + ")");
            }
            if (!received.sha256().equals(ref.sha256())) {
                sink.discard();
                throw corrupted(ref, "its content hashes to " + received.sha256());
            }
            if (received.writeFailure() != null) {
                sink.discard();
                throw received.writeFailure();
            }
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write what the remote object " + ref.key() + " holds", e);
        }
    }

    /** What reading an object's content into a sink came to; the failures are null when there were none. */
    private record Received(String sha256, Exception undecompressable, IOException writeFailure) {
    }

    private Received receive(InputStream content, Sink sink) throws IOException {
        MessageDigest digest = sha256();
        IOException writeFailure = null;
        try (InputStream in = new DigestInputStream(transfer.counting(new Decompressed(content)), digest)) {
            try {
                sink.write(in);
            } catch (IOException e) {
                writeFailure = e;
            }
            in.transferTo(OutputStream.nullOutputStream());
        } catch (Undecompressable e) {
            return new Received(null, (Exception) e.getCause(), writeFailure);
        }
        return new Received(HexFormat.of().formatHex(digest.digest()), null, writeFailure);
    }

    /**
     * The decompressed content of an object, where what the decompressor rejects is told apart from the
     * sink's own failures (a full disk is not a corrupted object) and from the store's (a broken connection,
     * already a {@link ZenithException}).
     */
    private static final class Decompressed extends FilterInputStream {

        Decompressed(InputStream compressed) throws IOException {
            super(new ZstdInputStream(compressed));
        }

        @Override
        public int read() {
            try {
                return super.read();
            } catch (ZenithException unreachable) {
                throw unreachable;
            } catch (IOException | RuntimeException e) {
                throw new Undecompressable(e);
            }
        }

        @Override
        public int read(byte[] buf, int off, int len) {
            try {
                return super.read(buf, off, len);
            } catch (ZenithException unreachable) {
                throw unreachable;
            } catch (IOException | RuntimeException e) {
                throw new Undecompressable(e);
            }
        }
    }

    private static final class Undecompressable extends RuntimeException {
        Undecompressable(Exception cause) {
            super(cause);
        }
    }

    /** A sink writing a file next to {@code target}, moved there once its content is checked. */
    private static Sink fileSink(Path target) {
        Path partial = target.resolveSibling(target.getFileName() + ".download");
        return new Sink() {
            @Override
            public void write(InputStream content) throws IOException {
                Files.createDirectories(partial.toAbsolutePath().getParent());
                try (OutputStream out = Files.newOutputStream(partial)) {
                    content.transferTo(out);
                }
            }

            @Override
            public void commit() throws IOException {
                AtomicFiles.moveDurably(partial, target);
            }

            @Override
            public void discard() throws IOException {
                Files.deleteIfExists(partial);
            }
        };
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
