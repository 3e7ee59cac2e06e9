package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Repository;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Brings branches from a remote into a repository: each manifest's timelines, ancestors first, as local
 * files like any other (WAL into the archive, images unpacked), checked object by object. Timelines the
 * repository has already are left as they are, so branches sharing ancestors download them once.
 */
public final class Clone {

    private final ObjectStore store;
    private final Transfer transfer;

    public Clone(ObjectStore store, Transfer transfer) {
        this.store = store;
        this.transfer = transfer;
    }

    /** The newest manifest of every branch on the remote, or of {@code only} when not empty. */
    public List<BranchManifest> manifests(List<String> only) {
        Set<String> names = new HashSet<>(BranchManifest.branchNames(store));
        if (!only.isEmpty()) {
            for (String wanted : only) {
                if (!names.contains(wanted)) {
                    throw ZenithException.notFound("the remote has no branch \"" + wanted + "\"",
                            "its branches: " + String.join(", ", names.stream().sorted().toList()));
                }
            }
            names.retainAll(only);
        }
        return names.stream().sorted().map(n -> BranchManifest.latest(store, n).orElseThrow()).toList();
    }

    /** Settings for a repository made from {@code manifests}: the superuser and version their images have. */
    public static RepositoryConfig settings(List<BranchManifest> manifests, RepositoryConfig defaults) {
        BranchManifest first = manifests.get(0);
        return defaults.toBuilder().superuser(first.superuser()).pgVersion(first.pgVersion()).build();
    }

    /**
     * Imports every timeline of {@code manifests} into {@code repository}, names their branches and records
     * each manifest as where this repository and the remote agree; returns how many timelines it fetched.
     */
    public int into(Repository repository, List<BranchManifest> manifests, RemoteTracking tracking, Consumer<String> progress) {
        Set<String> counted = new HashSet<>();
        for (BranchManifest manifest : manifests) {
            for (BranchManifest.TimelineEntry entry : manifest.timelines()) {
                if (counted.add(entry.metadata().id().value()) && repository.timelineIfPresent(entry.metadata().id()).isEmpty()) {
                    transfer.expect(entry.bytes());
                }
            }
        }
        int fetched = 0;
        for (BranchManifest manifest : manifests) {
            fetched += importChain(repository, manifest.branch(), manifest.timelines(), progress);
            BranchName name = new BranchName(manifest.branch());
            if (repository.branch(name).isEmpty()) {
                repository.nameBranch(name, manifest.timelines().get(0).metadata().id());
            }
            tracking.agreed(manifest);
        }
        return fetched;
    }

    /**
     * Imports the timelines of {@code chain} (a branch's, its own first) this repository lacks, ancestors
     * first; returns how many it imported.
     */
    int importChain(Repository repository, String branch, List<BranchManifest.TimelineEntry> chain, Consumer<String> progress) {
        ObjectPacker packer = new ObjectPacker(store, repository.tmpDir().resolve("clone"), transfer);
        int imported = 0;
        for (int i = chain.size() - 1; i >= 0; i--) {
            BranchManifest.TimelineEntry entry = chain.get(i);
            if (repository.timelineIfPresent(entry.metadata().id()).isPresent()) {
                continue;
            }
            progress.accept("fetching timeline " + entry.metadata().id() + (i == 0 ? " of " + branch : " (ancestor)"));
            repository.importTimeline(entry.metadata(), dir -> {
                List<ObjectPacker.Download> downloads = new ArrayList<>();
                entry.wal().forEach((name, ref) -> downloads.add(packer.toFile(ref, dir.resolve("wal").resolve(name))));
                entry.partial().forEach((name, ref) -> downloads.add(packer.toFile(ref, dir.resolve("wal-partial").resolve(name))));
                for (BranchManifest.ImageEntry image : entry.images()) {
                    downloads.add(imageDownload(image, dir.resolve("images").resolve(image.dirName())));
                }
                packer.unpackAll(downloads);
            });
            imported++;
        }
        return imported;
    }

    /** An image's tar to download, unpacked into {@code target} as it arrives. */
    static ObjectPacker.Download imageDownload(BranchManifest.ImageEntry image, Path target) {
        return new ObjectPacker.Download(image.tar(), new ObjectPacker.Sink() {
            @Override
            public void write(InputStream content) throws IOException {
                untar(content, target);
            }

            @Override
            public void discard() {
                FileTrees.deleteTree(target);
            }
        });
    }

    /** Unpacks the tar read from {@code in} into {@code into}, leaving the rest of {@code in} unread. */
    private static void untar(InputStream in, Path into) throws IOException {
        FileTrees.deleteTree(into);
        Files.createDirectories(into);
        TarArchiveInputStream archive = new TarArchiveInputStream(in);
        TarArchiveEntry entry;
        while ((entry = archive.getNextEntry()) != null) {
            Path out = into.resolve(entry.getName()).normalize();
            if (!out.startsWith(into)) {
                throw new IOException("image entry outside the image: " + entry.getName());
            }
            if (entry.isDirectory()) {
                Files.createDirectories(out);
            } else {
                Files.createDirectories(out.getParent());
                Files.copy(archive, out);
            }
            Files.setPosixFilePermissions(out, permissions(entry.getMode()));
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((mode & (1 << (8 - p.ordinal()))) != 0) {
                perms.add(p);
            }
        }
        return perms;
    }
}
