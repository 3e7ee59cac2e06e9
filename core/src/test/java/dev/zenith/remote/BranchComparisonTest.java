package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.TimelineId;
import dev.zenith.model.RemoteState;
import dev.zenith.storage.Repositories;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.TimelineMetadata;
import dev.zenith.storage.WalSegments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a branch stands against the remote's, judged as git judges it, on repositories and WAL made for
 * the test: no S3 is needed to decide, only the manifests (the remote's, and the base both agreed on)
 * and this side's WAL, read for commits.
 */
class BranchComparisonTest {

    private static final Optional<Path> NO_COMPUTE = Optional.empty();
    private static final String SEGMENT_1 = "000000010000000000000001";

    @TempDir
    Path dir;

    @Test
    void notPushedAndAnotherBranchOfTheSameName() {
        Side here = new Side(dir);
        assertThat(here.against(null).state()).isEqualTo(RemoteState.NOT_PUSHED);
        BranchComparison c = here.against(manifest(1, withId(here.main.metadata(), TimelineId.generate()), Map.of()));
        assertThat(c.state()).isEqualTo(RemoteState.DIVERGED);
        assertThat(c.detail()).contains("the remote's is another branch");
    }

    @Test
    void inSyncThenBehindWhenOnlyTheRemoteWentOn() {
        Side here = new Side(dir);
        BranchManifest first = here.manifest(1, Map.of());
        BranchComparison same = here.against(first);
        assertThat(same.state()).isEqualTo(RemoteState.IN_SYNC);
        assertThat(same.detail()).isEqualTo("in sync (manifest 1)");

        here.tracking.agreed(first);
        BranchComparison behind = here.against(here.manifest(2, Map.of(SEGMENT_1, ref("aa"))));
        assertThat(behind.state()).isEqualTo(RemoteState.BEHIND);
        assertThat(behind.detail()).isEqualTo("behind: the remote is at manifest 2, this branch at 1");
    }

    @Test
    void aheadWithACommitHereAndDivergedWhenTheRemoteWentOnToo() {
        Side here = new Side(dir);
        WalSegments wal = here.promoted();
        wal.commit(700, Instant.parse("2026-12-01T10:00:00Z"));
        wal.writeTo(here.main.wal().archiveDir());
        BranchManifest base = here.agreedOnStart();

        assertThat(here.against(base).state()).isEqualTo(RemoteState.AHEAD);
        BranchComparison diverged = here.against(here.manifest(2, Map.of(SEGMENT_1, ref("bb"))));
        assertThat(diverged.state()).isEqualTo(RemoteState.DIVERGED);
        assertThat(diverged.detail()).isEqualTo("diverged: committed here since manifest 1, and the remote went on to 2");
    }

    @Test
    void walWithOnlyZenithsOwnBranchPointIsNotGoingOn() {
        Side here = new Side(dir);
        WalSegments wal = here.promoted();
        wal.restorePoint(701, "zenith branch feature");
        wal.commit(701, Instant.parse("2026-12-01T10:00:00Z"));
        wal.writeTo(here.main.wal().archiveDir());
        BranchManifest base = here.agreedOnStart();

        assertThat(here.against(base).state()).isEqualTo(RemoteState.IN_SYNC);
        assertThat(here.against(here.manifest(2, Map.of(SEGMENT_1, ref("cc")))).state())
                .as("the remote's new WAL wins: a pull may drop WAL with no transaction").isEqualTo(RemoteState.BEHIND);
    }

    /** This side: a repository whose main has its root image at 0/1000000, and what it knows of remote "origin". */
    private static final class Side {
        final Repository repository;
        final Timeline main;
        final RemoteTracking tracking;

        Side(Path dir) {
            repository = Repositories.withRoot(dir.resolve("repo"), "0/1000000");
            main = repository.requireBranch(BranchName.MAIN);
            tracking = new RemoteTracking(repository.root(), "origin");
        }

        BranchComparison against(BranchManifest theirs) {
            return BranchComparison.of(repository, main, tracking, Optional.ofNullable(theirs), id -> NO_COMPUTE);
        }

        BranchManifest manifest(long seq, Map<String, ObjectPacker.ObjectRef> wal) {
            return BranchComparisonTest.manifest(seq, main.metadata(), wal);
        }

        /** Manifest 1, with no WAL, recorded as where both sides last agreed. */
        BranchManifest agreedOnStart() {
            BranchManifest base = manifest(1, Map.of());
            tracking.agreed(base);
            return base;
        }

        /** The branch's first start: promoted onto Postgres timeline 2 at its image; its WAL follows. */
        WalSegments promoted() {
            try {
                java.nio.file.Files.writeString(main.wal().archiveDir().resolve("00000002.history"),
                        "1\t0/1000000\tno recovery target specified\n");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return new WalSegments(2);
        }
    }

    private static BranchManifest manifest(long seq, TimelineMetadata metadata, Map<String, ObjectPacker.ObjectRef> wal) {
        return new BranchManifest("main", seq, "2026-12-01T10:00:00Z", "zenith", 18,
                List.of(new BranchManifest.TimelineEntry(metadata, wal, Map.of(), List.of())));
    }

    private static ObjectPacker.ObjectRef ref(String sha256) {
        return new ObjectPacker.ObjectRef("objects/" + sha256, sha256, 16 << 20, 1 << 20);
    }

    private static TimelineMetadata withId(TimelineMetadata m, TimelineId id) {
        return new TimelineMetadata(id, m.ancestor(), m.ancestorLsn(), m.ancestorTli(), m.createdAt(), m.lastLsn(), m.lastTli(),
                m.retention(), m.expiresAt(), m.protectedSince(), m.importedFrom(), m.superuser());
    }
}
