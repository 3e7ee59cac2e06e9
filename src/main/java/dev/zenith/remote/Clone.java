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
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
        return new RepositoryConfig(defaults.apiPort(), defaults.computePortBase(), defaults.pgBin(), defaults.osUser(),
                first.superuser(), defaults.proxyPort(), defaults.proxyAddress(), defaults.proxySocketDirs(),
                defaults.idleTimeout(), defaults.maxComputes(), defaults.proxyStartupTimeout(), defaults.readOnlyIdleTimeout(),
                defaults.retention(), defaults.imageWalThresholdMb(), defaults.imageAtStopMb(), defaults.gcInterval(),
                defaults.housekeepingInterval(), defaults.proxyTls(), defaults.auth(), defaults.walCompression(),
                first.pgVersion());
    }

    /**
     * Imports every timeline of {@code manifests} into {@code repository}, names their branches and records
     * each manifest as where this repository and the remote agree.
     */
    public void into(Repository repository, List<BranchManifest> manifests, RemoteTracking tracking, Consumer<String> progress) {
        Set<String> counted = new HashSet<>();
        for (BranchManifest manifest : manifests) {
            for (BranchManifest.TimelineEntry entry : manifest.timelines()) {
                if (counted.add(entry.metadata().id().value()) && repository.timelineIfPresent(entry.metadata().id()).isEmpty()) {
                    transfer.expect(entry.bytes());
                }
            }
        }
        for (BranchManifest manifest : manifests) {
            importChain(repository, manifest.branch(), manifest.timelines(), progress);
            BranchName name = new BranchName(manifest.branch());
            if (repository.branch(name).isEmpty()) {
                repository.nameBranch(name, manifest.timelines().get(0).metadata().id());
            }
            tracking.agreed(manifest);
        }
    }

    /** Imports the timelines of {@code chain} (a branch's, its own first) this repository lacks, ancestors first. */
    void importChain(Repository repository, String branch, List<BranchManifest.TimelineEntry> chain, Consumer<String> progress) {
        ObjectPacker packer = new ObjectPacker(store, repository.tmpDir().resolve("clone"), transfer);
        for (int i = chain.size() - 1; i >= 0; i--) {
            BranchManifest.TimelineEntry entry = chain.get(i);
            if (repository.timelineIfPresent(entry.metadata().id()).isPresent()) {
                continue;
            }
            progress.accept("fetching timeline " + entry.metadata().id() + (i == 0 ? " of " + branch : " (ancestor)"));
            repository.importTimeline(entry.metadata(), dir -> {
                unpackAll(packer, entry.wal(), dir.resolve("wal"));
                unpackAll(packer, entry.partial(), dir.resolve("wal-partial"));
                for (BranchManifest.ImageEntry image : entry.images()) {
                    unpackImage(repository, packer, image, dir.resolve("images").resolve(image.dirName()));
                }
            });
        }
    }

    /** Downloads an image's tar and unpacks it into {@code target}. */
    static void unpackImage(Repository repository, ObjectPacker packer, BranchManifest.ImageEntry image, Path target)
            throws IOException {
        Path tar = repository.tmpDir().resolve("clone").resolve("image.tar");
        packer.unpack(image.tar(), tar);
        try {
            untar(tar, target);
        } finally {
            Files.deleteIfExists(tar);
        }
    }

    private static void unpackAll(ObjectPacker packer, Map<String, ObjectPacker.ObjectRef> files, Path dir) {
        files.forEach((name, ref) -> packer.unpack(ref, dir.resolve(name)));
    }

    static void untar(Path tar, Path into) throws IOException {
        FileTrees.deleteTree(into);
        Files.createDirectories(into);
        try (InputStream in = Files.newInputStream(tar); TarArchiveInputStream archive = new TarArchiveInputStream(in)) {
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
