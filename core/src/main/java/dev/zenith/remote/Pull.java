package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.model.PullOutcome;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Brings a local branch up to the remote's when only the remote went on since they last agreed
 * ({@link BranchComparison}); a branch this repository lacks is fetched whole. Divergence is refused both
 * ways, as git refuses it, and nothing is overwritten that holds a commit.
 */
public final class Pull {

    /** What a pull did to one branch. */
    public record Result(String branch, PullOutcome outcome, long manifest, long bytesFetched) {
    }

    private final Repository repository;
    private final ObjectStore store;
    private final RemoteTracking tracking;
    private final Transfer transfer;

    public Pull(Repository repository, ObjectStore store, RemoteTracking tracking, Transfer transfer) {
        this.repository = repository;
        this.store = store;
        this.tracking = tracking;
        this.transfer = transfer;
    }

    /** The remote's newest manifest of {@code branch}; refused when it has none. */
    public BranchManifest theirs(BranchName branch) {
        return BranchManifest.latest(store, branch.value()).orElseThrow(() -> ZenithException.notFound(
                "the remote has no branch \"" + branch + "\"", "zenith push " + branch + " sends it there"));
    }

    /** How {@code local} stands against {@code theirs}, with the WAL of a running compute read where it is. */
    public BranchComparison compare(Timeline local, BranchManifest theirs, Function<TimelineId, Optional<Path>> livePgWal) {
        return BranchComparison.of(repository, local, tracking, Optional.of(theirs), livePgWal);
    }

    /** Fetches a branch this repository does not have. */
    public Result fetch(BranchManifest theirs, Consumer<String> progress) {
        Clone clone = new Clone(store, transfer);
        clone.into(repository, List.of(theirs), tracking, progress);
        return new Result(theirs.branch(), PullOutcome.FETCHED, theirs.seq(), transfer.done());
    }

    /**
     * Makes {@code local}'s files the remote's: the WAL and images this side made since the base (none of
     * it holding a commit, or the comparison would not be BEHIND) give way to the remote's. The branch's
     * compute must be stopped and its data directory dropped by the caller.
     */
    public Result fastForward(Timeline local, BranchComparison comparison, Consumer<String> progress) {
        BranchManifest theirs = comparison.theirs().orElseThrow();
        BranchManifest.TimelineEntry their = theirs.timelines().get(0);
        BranchManifest.TimelineEntry base = comparison.base().orElseThrow().timelines().get(0);
        new Clone(store, transfer).importChain(repository, theirs.branch(), theirs.timelines().subList(1, theirs.timelines().size()),
                progress);
        transfer.expect(their.bytes());
        progress.accept("fast-forwarding " + theirs.branch() + " to manifest " + theirs.seq());
        ObjectPacker packer = new ObjectPacker(store, repository.tmpDir().resolve("pull"), transfer);
        Map<String, Path> mine = BranchComparison.newWal(local, base, tracking);
        Path partialDir = local.dir().resolve("wal-partial");
        mine.forEach((name, path) -> {
            if (!their.wal().containsKey(name) && !their.partial().containsKey(name)) {
                delete(path);
            }
        });
        List<ObjectPacker.Download> downloads = new ArrayList<>();
        their.wal().forEach((name, ref) -> bring(packer, ref, base.wal().get(name), local.wal().archiveDir().resolve(name))
                .ifPresent(downloads::add));
        their.partial().forEach((name, ref) -> bring(packer, ref, base.partial().get(name), partialDir.resolve(name))
                .ifPresent(downloads::add));
        packer.unpackAll(downloads);
        Set<String> theirImages = their.images().stream().map(BranchManifest.ImageEntry::dirName).collect(Collectors.toSet());
        Lsn agreedEnd = base.metadata().lastLsn();
        for (Image image : local.images()) {
            if (!theirImages.contains(image.dataDir().getFileName().toString()) && !image.lsn().isBefore(agreedEnd)) {
                FileTrees.deleteTree(image.dataDir());
            }
        }
        for (BranchManifest.ImageEntry image : their.images()) {
            Path target = local.dir().resolve("images").resolve(image.dirName());
            if (Files.exists(target)) {
                continue;
            }
            Path staged = repository.tmpDir().resolve("pull").resolve(image.dirName());
            packer.unpack(Clone.imageDownload(image, staged));
            local.addImage(staged, new dev.zenith.WalPoint(Lsn.parse(image.lsn()), image.tli()));
        }
        local.recordCleanStop(their.metadata().last());
        tracking.agreed(theirs);
        return new Result(theirs.branch(), PullOutcome.FAST_FORWARDED, theirs.seq(), transfer.done());
    }

    /** Records that this repository holds what {@code theirs} lists (they are in sync). */
    public Result upToDate(BranchManifest theirs) {
        tracking.agreed(theirs);
        return new Result(theirs.branch(), PullOutcome.UP_TO_DATE, theirs.seq(), 0);
    }

    /**
     * {@code ref} to download into {@code target}, unless it holds that content already: known from the base
     * for files both had, checked by hash for the others.
     */
    private Optional<ObjectPacker.Download> bring(ObjectPacker packer, ObjectPacker.ObjectRef ref, ObjectPacker.ObjectRef agreed,
                                                  Path target) {
        if (Files.exists(target) && (agreed != null && agreed.sha256().equals(ref.sha256())
                || tracking.hashOf(target).equals(ref.sha256()))) {
            transfer.skip(ref.size());
            return Optional.empty();
        }
        return Optional.of(packer.toFile(ref, target));
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + file, e);
        }
    }
}
