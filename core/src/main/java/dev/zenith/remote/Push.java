package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.Failpoints;
import dev.zenith.Json;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.TimelineMetadata;
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
 * Pushes a branch to a remote: every object its rebuild needs that the remote lacks (its timeline's WAL,
 * its ancestors' WAL from their images to its branch point, the images a rebuild starts from), then one
 * new manifest. Data first, manifest last, so a push cut short leaves the remote as it was: objects no
 * manifest names are garbage for {@link RemoteGc}. The branch's WAL must be in its archive: the daemon
 * stops its compute or switches its WAL segment first.
 */
public final class Push {

    /** What a push did: the manifest it wrote (or found in sync), and how much it sent against what the remote had. */
    public record Result(String branch, long seq, int objectsSent, long bytesSent, int objectsKept, boolean upToDate) {
    }

    private final Repository repository;
    private final ObjectStore store;
    private final RemoteTracking tracking;
    private final Transfer transfer;
    private final ObjectPacker packer;
    private final Path scratch;
    private int sent;
    private long bytesSent;
    private int kept;

    public Push(Repository repository, ObjectStore store, RemoteTracking tracking, Transfer transfer) {
        this.repository = repository;
        this.store = store;
        this.tracking = tracking;
        this.transfer = transfer;
        this.scratch = repository.tmpDir().resolve("push");
        this.packer = new ObjectPacker(store, scratch, transfer);
    }

    /**
     * Pushes {@code branch}; {@code liveEnd} is where its running compute's WAL was switched to a new segment
     * (the end of what the archive holds), empty when no compute runs on it.
     */
    public Result push(BranchName branch, Optional<WalPoint> liveEnd, Consumer<String> progress) {
        sent = 0;
        bytesSent = 0;
        kept = 0;
        Timeline timeline = repository.requireBranch(branch);
        Optional<BranchManifest> theirs = BranchManifest.latest(store, branch.value());
        BranchComparison comparison = BranchComparison.of(repository, timeline, tracking, theirs,
                id -> Optional.empty());
        switch (comparison.state()) {
            case BEHIND -> throw ZenithException.conflict("someone pushed " + branch + " since this repository last agreed with "
                    + "the remote (" + comparison.detail() + ")", "zenith pull " + branch + " first, then push");
            case DIVERGED -> throw ZenithException.conflict("cannot push " + branch + ": " + comparison.detail(),
                    "push yours under another name (zenith branch rename " + branch + " " + branch + "-mine), "
                            + "or drop yours and take the remote's (zenith branch delete " + branch + ", zenith pull " + branch + ")");
            case IN_SYNC -> {
                tracking.agreed(theirs.orElseThrow());
                return new Result(branch.value(), theirs.get().seq(), 0, 0, 0, true);
            }
            case AHEAD, NOT_PUSHED -> {
                // goes on below
            }
        }
        List<Link> chain = new ArrayList<>();
        for (Timeline t = timeline, child = null; t != null; child = t,
                t = t.metadata().ancestor() == null ? null : repository.timeline(t.metadata().ancestor())) {
            chain.add(new Link(t, child == null ? null : child.metadata().ancestorLsn()));
        }
        chain.forEach(link -> transfer.expect(link.bytes()));
        try (RemoteLocks ignored = RemoteLocks.push(store)) {
            return send(branch, theirs, chain, liveEnd, progress);
        }
    }

    private Result send(BranchName branch, Optional<BranchManifest> theirs, List<Link> chain, Optional<WalPoint> liveEnd,
                        Consumer<String> progress) {
        List<BranchManifest.TimelineEntry> entries = new ArrayList<>();
        for (Link link : chain) {
            progress.accept("pushing timeline " + link.timeline.id() + (link.upTo == null ? " of " + branch : " (ancestor)"));
            TimelineMetadata metadata = link.timeline.metadata().asPushed(link.upTo == null ? liveEnd : Optional.empty());
            entries.add(entry(link, metadata));
        }
        tracking.savePacked();
        Failpoints.reach("push-objects-sent");
        long seq = theirs.map(m -> m.seq() + 1).orElse(1L);
        BranchManifest manifest = new BranchManifest(branch.value(), seq, Instant.now().toString(),
                repository.config().superuser(), repository.config().pgVersion(), entries);
        try {
            if (!store.putIfAbsent(BranchManifest.key(branch.value(), seq), Json.MAPPER.writeValueAsBytes(manifest))) {
                throw ZenithException.conflict("someone else pushed " + branch + " while this push ran (manifest " + seq
                        + " is theirs)", "zenith pull " + branch + ", then push again");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tracking.agreed(manifest);
        return new Result(branch.value(), seq, sent, bytesSent, kept, false);
    }

    /**
     * A timeline of the pushed chain; for an ancestor ({@code upTo} set) only what the branch needs of it:
     * the newest image at or before the branch point and the WAL from that image to the branch point.
     */
    private record Link(Timeline timeline, Lsn upTo) {

        List<Image> images() {
            return upTo == null ? timeline.images() : timeline.newestImageAtOrBefore(upTo).stream().toList();
        }

        boolean needs(WalFileName name) {
            if (upTo == null || name.history()) {
                return true;
            }
            long from = images().stream().findFirst().map(i -> WalFileName.segmentOf(i.tli(), i.walStart()).segmentNumber())
                    .orElse(0L);
            long to = WalFileName.segmentOf(1, upTo).segmentNumber();
            return name.segmentNumber() >= from && name.segmentNumber() <= to;
        }

        Map<WalFileName, Path> wal(Map<WalFileName, Path> files) {
            Map<WalFileName, Path> needed = new TreeMap<>();
            files.forEach((name, path) -> {
                if (needs(name)) {
                    needed.put(name, path);
                }
            });
            return needed;
        }

        long bytes() {
            long total = 0;
            for (Path p : wal(timeline.wal().archived()).values()) {
                total += size(p);
            }
            for (Path p : wal(timeline.wal().partial()).values()) {
                total += size(p);
            }
            for (Image image : images()) {
                total += FileTrees.sizeOf(image.dataDir());
            }
            return total;
        }
    }

    private BranchManifest.TimelineEntry entry(Link link, TimelineMetadata metadata) {
        Map<String, ObjectPacker.ObjectRef> wal = new TreeMap<>();
        link.wal(link.timeline.wal().archived()).forEach((name, path) -> wal.put(name.toString(), send(path)));
        Map<String, ObjectPacker.ObjectRef> partial = new TreeMap<>();
        link.wal(link.timeline.wal().partial()).forEach((name, path) -> partial.put(name.toString(), send(path)));
        List<BranchManifest.ImageEntry> images = new ArrayList<>();
        for (Image image : link.images()) {
            images.add(new BranchManifest.ImageEntry(image.lsn().toString(), image.tli(), sendImage(image.dataDir())));
        }
        return new BranchManifest.TimelineEntry(metadata, wal, partial, images);
    }

    private ObjectPacker.ObjectRef send(Path file) {
        return counted(packer.pack(file, tracking));
    }

    private ObjectPacker.ObjectRef sendImage(Path dataDir) {
        Optional<ObjectPacker.Packed> reused = packer.stillStored(tracking.packedImage(dataDir), FileTrees.sizeOf(dataDir));
        if (reused.isPresent()) {
            return counted(reused.get());
        }
        Path tar = tar(dataDir);
        try {
            ObjectPacker.Packed packed = packer.pack(tar);
            tracking.rememberImage(dataDir, packed.ref());
            return counted(packed);
        } finally {
            deleteQuietly(tar);
        }
    }

    private ObjectPacker.ObjectRef counted(ObjectPacker.Packed packed) {
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

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a scratch file; the next push's cleanup takes it
        }
    }
}
