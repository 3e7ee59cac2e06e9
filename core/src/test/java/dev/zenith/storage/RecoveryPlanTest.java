package dev.zenith.storage;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Which image a rebuild starts from, where its replay stops, and which WAL it may read. */
class RecoveryPlanTest {

    @TempDir
    Path dir;

    @Test
    void aFreshRepositoryReplaysNothingFromItsCleanImage() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        RecoveryPlan plan = RecoveryPlan.latest(repository, repository.requireBranch(BranchName.MAIN));
        assertThat(plan.image().lsn()).isEqualTo(Lsn.parse("0/1000028"));
        assertThat(plan.stopBefore()).isEmpty();
        assertThat(plan.sources()).allMatch(RecoveryPlan.WalSource::historyOnly);
    }

    @Test
    void aBranchNeverStartedStopsJustBeforeItsBranchPoint() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/3000000"), 1), null, null);
        RecoveryPlan plan = RecoveryPlan.latest(repository, child);
        assertThat(plan.stopBefore()).contains(Lsn.parse("0/3000000"));
        assertThat(plan.sources()).extracting(RecoveryPlan.WalSource::timeline).containsExactly(child.id(), main.id());
        assertThat(plan.sources().get(1).maxTli()).isEqualTo(1);
        assertThat(plan.sources()).noneMatch(RecoveryPlan.WalSource::historyOnly);
    }

    @Test
    void aBranchStartsFromItsParentsNewestImageAtOrBeforeTheBranchPoint() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Repositories.image(repository, main, "0/2000000", 1, "0/1F00000");
        Repositories.image(repository, main, "0/5000000", 1, "0/4F00000");
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/3000000"), 1), null, null);
        assertThat(RecoveryPlan.latest(repository, child).image().lsn()).isEqualTo(Lsn.parse("0/2000000"));
        assertThat(RecoveryPlan.latest(repository, main).image().lsn()).isEqualTo(Lsn.parse("0/5000000"));
    }

    /** A parent's live segment gone from its pg_wal before the copy, because its compute stopped: its wal-partial/ copy serves. */
    @Test
    void aLiveSegmentThatAStopMovedToWalPartialIsStillRestored() throws Exception {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/3800000"), 1), null, null);
        String segment = "000000010000000000000003";
        Path pgWal = java.nio.file.Files.createDirectories(dir.resolve("pg_wal"));
        java.nio.file.Files.createSymbolicLink(pgWal.resolve(segment), dir.resolve("recycled")); // listed, gone when copied
        Path partial = java.nio.file.Files.createDirectories(main.dir().resolve("wal-partial")).resolve(segment);
        java.nio.file.Files.write(partial, new byte[] {1, 2, 3});

        Path view = dir.resolve("restore");
        RecoveryPlan.latest(repository, child).writeRestoreView(repository, view,
                id -> id.equals(main.id()) ? Optional.of(pgWal) : Optional.empty());
        assertThat(view.resolve(segment)).exists();
        assertThat(view.resolve(segment).toRealPath()).isEqualTo(partial.toRealPath());
    }

    @Test
    void aBaseBackupImageNeedsWalFromItsBackupStart() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Image image = Repositories.image(repository, repository.requireBranch(BranchName.MAIN), "0/2000000", 1, "0/1F00000");
        assertThat(image.clean()).isFalse();
        assertThat(image.walStart()).isEqualTo(Lsn.parse("0/1F00000"));
    }

    @Test
    void aPastPointUsesTheNewestImageAtOrBeforeIt() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Repositories.image(repository, main, "0/4000000", 1, "0/3F00000");
        RecoveryPlan plan = RecoveryPlan.at(repository, main, new WalPoint(Lsn.parse("0/3000000"), 1));
        assertThat(plan.image().lsn()).isEqualTo(Lsn.parse("0/1000028"));
        assertThat(plan.stopBefore()).contains(Lsn.parse("0/3000000"));
    }

    @Test
    void aPromotedBranchReplaysToTheEndOfItsWal() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/3000000"), 1), null, null);
        Repositories.archive(child, "00000002.history");
        assertThat(RecoveryPlan.latest(repository, child).stopBefore()).isEmpty();
    }

    @Test
    void aParentsWalAfterTheBranchPointIsNotOffered() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        for (int segment = 1; segment <= 6; segment++) {
            Repositories.archive(main, String.format("0000000100000000%08X", segment));
        }
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/2000100"), 1), null, null);
        var files = RecoveryPlan.latest(repository, child).files(repository, t -> Optional.empty());
        assertThat(files.keySet()).extracting(Object::toString).as("up to the branch point's segment and the next")
                .containsExactly("000000010000000000000001", "000000010000000000000002", "000000010000000000000003");
        var atPoint = RecoveryPlan.at(repository, main, new WalPoint(Lsn.parse("0/4000000"), 1))
                .files(repository, t -> Optional.empty());
        assertThat(atPoint.keySet()).extracting(Object::toString).last().isEqualTo("000000010000000000000005");
    }

    @Test
    void anAncestorLendsOnlyTheTimelineIdsItHadAtTheBranchPoint() {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Repositories.archive(main, "000000010000000000000001");
        Repositories.archive(main, "000000020000000000000003");
        Timeline child = repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/2000000"), 1), null, null);
        Repositories.archive(child, "000000010000000000000001");
        var files = RecoveryPlan.latest(repository, child).files(repository, t -> Optional.empty());
        assertThat(files.keySet()).extracting(Object::toString).containsExactly("000000010000000000000001");
        assertThat(files.values().iterator().next().source()).isEqualTo(child.id());
    }
}
