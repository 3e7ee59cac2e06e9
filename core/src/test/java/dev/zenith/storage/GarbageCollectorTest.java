package dev.zenith.storage;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.WalPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** GC's decisions on repositories made on a real file system: images and WAL with Postgres's names, no Postgres. */
class GarbageCollectorTest {

    private static final List<String> SEGMENTS = List.of("000000010000000000000001", "000000010000000000000002",
            "000000010000000000000003", "000000010000000000000004", "000000010000000000000005");

    @TempDir
    Path dir;

    /** main with a clean image at 0/1000028, another at 0/4000028, and WAL segments 1 to 5; retention 0s. */
    private Repository repository() {
        Repository repository = Repository.create(dir, Repositories.config(8, "0s"));
        Timeline main = repository.createRoot(BranchName.MAIN, Repositories.staged(repository, "root"), new WalPoint(Lsn.parse("0/1000028"), 1), null, null, t -> { });
        SEGMENTS.forEach(s -> Repositories.archive(main, s));
        Repositories.image(repository, main, "0/4000028", 1, null);
        return Repository.open(dir);
    }

    @Test
    void withNoPastToKeepOnlyTheNewestImageAndTheWalFromItStay() {
        Repository repository = repository();
        Timeline main = repository.requireBranch(BranchName.MAIN);

        GarbageCollector.Result r = new GarbageCollector(repository).collect(Instant.now().plusSeconds(1));

        assertThat(main.images()).extracting(i -> i.lsn().toString()).containsExactly("0/4000028");
        assertThat(main.wal().archived().keySet()).extracting(WalFileName::toString)
                .containsExactly("000000010000000000000004", "000000010000000000000005");
        assertThat(r.segments()).isEqualTo(3);
        assertThat(r.timelines()).isZero();
    }

    @Test
    void aChildsBranchPointKeepsTheImageAndWalItStartsFrom() {
        Repository repository = repository();
        Timeline main = repository.requireBranch(BranchName.MAIN);
        repository.createBranch(new BranchName("child"), main, new WalPoint(Lsn.parse("0/2000100"), 1), null, null);

        new GarbageCollector(repository).collect(Instant.now().plusSeconds(1));

        assertThat(main.images()).hasSize(2);
        assertThat(main.wal().archived()).hasSize(SEGMENTS.size());
    }

    @Test
    void aTimelineNoBranchReachesGoesAndADanglingNameIsSkipped() throws Exception {
        Repository repository = repository();
        Timeline main = repository.requireBranch(BranchName.MAIN);
        Timeline orphan = repository.createBranch(new BranchName("orphan"), main, new WalPoint(Lsn.parse("0/4000100"), 1), null, null);
        repository.branches().remove(new BranchName("orphan"), orphan.id()); // as a crash between the two would leave it
        Timeline gone = repository.createBranch(new BranchName("gone"), main, new WalPoint(Lsn.parse("0/4000100"), 1), null, null);
        FileTrees.deleteTree(gone.dir());

        GarbageCollector.Result r = new GarbageCollector(repository).collect(Instant.now().plusSeconds(1));

        assertThat(r.timelines()).isEqualTo(1);
        assertThat(orphan.dir()).doesNotExist();
        assertThat(repository.branches().get(new BranchName("gone"))).as("the dangling name is left alone").contains(gone.id());
        assertThat(repository.timelineIfPresent(gone.id())).isEmpty();
        assertThat(main.images()).isNotEmpty();
    }
}
