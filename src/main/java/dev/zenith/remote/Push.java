package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.ZenithException;
import dev.zenith.storage.Image;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalFileName;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Pushes a branch to a remote: every object its rebuild needs that the remote lacks (its timeline's and
 * its ancestors' WAL, the images a rebuild starts from), then one new manifest. Data first, manifest last,
 * so a push cut short leaves the remote as it was: objects no manifest names are garbage for a later GC.
 * The branch's compute must be stopped, so that its WAL is all in the archive.
 */
public final class Push {

    /** What a push did: the manifest it wrote, and how much it sent against what the remote had. */
    public record Result(String branch, long seq, int objectsSent, long bytesSent, int objectsKept) {
    }

    private final Repository repository;
    private final ObjectStore store;
    private final ObjectPacker packer;
    private final Path scratch;
    private int sent;
    private long bytesSent;
    private int kept;

    public Push(Repository repository, ObjectStore store) {
        this.repository = repository;
        this.store = store;
        this.scratch = repository.tmpDir().resolve("push");
        this.packer = new ObjectPacker(store, scratch);
    }

    public Result push(BranchName branch, Consumer<String> progress) {
        Timeline timeline = repository.requireBranch(branch);
        Optional<BranchManifest> remote = latest(store, branch.value());
        remote.ifPresent(m -> checkFastForward(branch, timeline, m));
        List<BranchManifest.TimelineEntry> entries = new ArrayList<>();
        for (Timeline t = timeline, child = null; t != null; child = t,
                t = t.metadata().ancestor() == null ? null : repository.timeline(t.metadata().ancestor())) {
            progress.accept("pushing timeline " + t.id() + (child == null ? " of " + branch : " (ancestor)"));
            entries.add(entry(t, child == null ? null : child.metadata().ancestorLsn()));
        }
        long seq = remote.map(m -> m.seq() + 1).orElse(1L);
        BranchManifest manifest = new BranchManifest(branch.value(), seq, Instant.now().toString(),
                repository.config().superuser(), repository.config().pgVersion(), entries);
        try {
            if (!store.putIfAbsent(BranchManifest.key(branch.value(), seq), Json.MAPPER.writeValueAsBytes(manifest))) {
                throw ZenithException.conflict("someone else pushed " + branch + " while this push ran",
                        "zenith pull " + branch + ", then push again");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Result(branch.value(), seq, sent, bytesSent, kept);
    }

    /** A push goes on from what the remote has; a branch that went another way is refused, as git refuses. */
    private static void checkFastForward(BranchName branch, Timeline local, BranchManifest remote) {
        var theirs = remote.timelines().get(0).metadata();
        if (!theirs.id().equals(local.id())) {
            throw ZenithException.conflict("the remote's " + branch + " is another branch than this one (it has timeline "
                    + theirs.id() + ", this repository " + local.id() + ")", "push it under another name");
        }
        if (theirs.lastLsn().compareTo(local.metadata().lastLsn()) > 0) {
            throw ZenithException.conflict("the remote's " + branch + " is ahead of this one (at " + theirs.lastLsn()
                    + ", here " + local.metadata().lastLsn() + ")", "zenith pull " + branch + " first");
        }
    }

    /** The newest manifest of {@code branch} on the remote. */
    static Optional<BranchManifest> latest(ObjectStore store, String branch) {
        return store.list(BranchManifest.prefix(branch)).stream()
                .filter(k -> k.matches(".*/manifest-\\d+\\.json"))
                .max((a, b) -> Long.compare(seqOf(a), seqOf(b)))
                .flatMap(store::get)
                .map(bytes -> {
                    try {
                        return Json.MAPPER.readValue(bytes, BranchManifest.class);
                    } catch (IOException e) {
                        throw ZenithException.failed("the remote's manifest of " + branch + " cannot be read: " + e.getMessage(),
                                "the remote is damaged: push the branch again under another name");
                    }
                });
    }

    private static long seqOf(String key) {
        String name = key.substring(key.lastIndexOf("manifest-") + "manifest-".length(), key.length() - ".json".length());
        return Long.parseLong(name);
    }

    /** A timeline's WAL and images; for an ancestor ({@code upTo} set) only the images at or before the branch point. */
    private BranchManifest.TimelineEntry entry(Timeline t, dev.zenith.Lsn upTo) {
        Map<String, ObjectPacker.ObjectRef> wal = new TreeMap<>();
        for (Map.Entry<WalFileName, Path> f : t.wal().archived().entrySet()) {
            wal.put(f.getKey().toString(), send(f.getValue()));
        }
        Map<String, ObjectPacker.ObjectRef> partial = new TreeMap<>();
        for (Map.Entry<WalFileName, Path> f : t.wal().partial().entrySet()) {
            partial.put(f.getKey().toString(), send(f.getValue()));
        }
        List<BranchManifest.ImageEntry> images = new ArrayList<>();
        List<Image> chosen = upTo == null ? t.images() : t.newestImageAtOrBefore(upTo).stream().toList();
        for (Image image : chosen) {
            Path tar = tar(image.dataDir());
            try {
                images.add(new BranchManifest.ImageEntry(image.lsn().toString(), image.tli(), send(tar)));
            } finally {
                deleteQuietly(tar);
            }
        }
        return new BranchManifest.TimelineEntry(t.metadata(), wal, partial, images);
    }

    private ObjectPacker.ObjectRef send(Path file) {
        ObjectPacker.Packed packed = packer.pack(file);
        if (packed.uploaded()) {
            sent++;
            bytesSent += packed.ref().storedSize();
        } else {
            kept++;
        }
        return packed.ref();
    }

    /**
     * An image directory as a tar whose bytes depend only on its files: sorted entries, no times, no
     * owners, so the same image is the same object on every push.
     */
    private Path tar(Path dir) {
        try {
            Files.createDirectories(scratch);
            Path tar = Files.createTempFile(scratch, "image", ".tar");
            try (OutputStream out = Files.newOutputStream(tar); TarArchiveOutputStream archive = new TarArchiveOutputStream(out);
                 Stream<Path> walk = Files.walk(dir)) {
                archive.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                archive.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                for (Path p : walk.sorted().toList()) {
                    if (p.equals(dir)) {
                        continue;
                    }
                    String name = dir.relativize(p).toString() + (Files.isDirectory(p) ? "/" : "");
                    TarArchiveEntry entry = new TarArchiveEntry(name);
                    entry.setModTime(new Date(0));
                    entry.setMode(mode(p));
                    if (Files.isRegularFile(p)) {
                        entry.setSize(Files.size(p));
                    }
                    archive.putArchiveEntry(entry);
                    if (Files.isRegularFile(p)) {
                        Files.copy(p, archive);
                    }
                    archive.closeArchiveEntry();
                }
            }
            return tar;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack the image " + dir, e);
        }
    }

    private static int mode(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
        int mode = Files.isDirectory(p) ? 0040000 : 0100000;
        for (PosixFilePermission perm : perms) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return mode;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a scratch file; the next push's cleanup takes it
        }
    }
}
