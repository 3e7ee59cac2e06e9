package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.Lsn;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
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

    public Clone(ObjectStore store) {
        this.store = store;
    }

    /** The newest manifest of every branch on the remote, or of {@code only} when not empty. */
    public List<BranchManifest> manifests(List<String> only) {
        Set<String> names = new HashSet<>();
        for (String key : store.list("branches/")) {
            String rest = key.substring("branches/".length());
            int slash = rest.indexOf('/');
            if (slash > 0) {
                names.add(rest.substring(0, slash));
            }
        }
        if (!only.isEmpty()) {
            for (String wanted : only) {
                if (!names.contains(wanted)) {
                    throw ZenithException.notFound("the remote has no branch \"" + wanted + "\"",
                            "its branches: " + String.join(", ", names.stream().sorted().toList()));
                }
            }
            names.retainAll(only);
        }
        return names.stream().sorted().map(n -> Push.latest(store, n).orElseThrow()).toList();
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

    /** Imports every timeline of {@code manifests} into {@code repository} and names their branches. */
    public void into(Repository repository, List<BranchManifest> manifests, Consumer<String> progress) {
        ObjectPacker packer = new ObjectPacker(store, repository.tmpDir().resolve("clone"));
        for (BranchManifest manifest : manifests) {
            List<BranchManifest.TimelineEntry> chain = manifest.timelines();
            for (int i = chain.size() - 1; i >= 0; i--) {
                BranchManifest.TimelineEntry entry = chain.get(i);
                progress.accept("fetching timeline " + entry.metadata().id() + (i == 0 ? " of " + manifest.branch() : ""));
                repository.importTimeline(entry.metadata(), dir -> {
                    unpackAll(packer, entry.wal(), dir.resolve("wal"));
                    unpackAll(packer, entry.partial(), dir.resolve("wal-partial"));
                    for (BranchManifest.ImageEntry image : entry.images()) {
                        Path tar = repository.tmpDir().resolve("clone").resolve("image.tar");
                        packer.unpack(image.tar(), tar);
                        try {
                            untar(tar, dir.resolve("images").resolve(Image.dirName(Lsn.parse(image.lsn()), image.tli())));
                        } finally {
                            Files.deleteIfExists(tar);
                        }
                    }
                });
            }
            BranchName name = new BranchName(manifest.branch());
            if (repository.branch(name).isEmpty()) {
                repository.nameBranch(name, chain.get(0).metadata().id());
            }
        }
    }

    private static void unpackAll(ObjectPacker packer, Map<String, ObjectPacker.ObjectRef> files, Path dir) {
        files.forEach((name, ref) -> packer.unpack(ref, dir.resolve(name)));
    }

    private static void untar(Path tar, Path into) throws IOException {
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
