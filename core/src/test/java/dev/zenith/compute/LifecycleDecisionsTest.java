package dev.zenith.compute;

import dev.zenith.IdleTimeout;
import dev.zenith.Lsn;
import dev.zenith.RepositoryConfig;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.model.ComputeState;
import dev.zenith.storage.Repositories;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The small decisions of a compute's life: its idle timeout, when it is due, its state, its images. */
class LifecycleDecisionsTest {

    private static final IdleTimeout FIVE_MINUTES = IdleTimeout.parse("5m");

    private static ComputeNode node(String idleTimeout, StartedBy by) {
        return new ComputeNode("pg1", TimelineId.generate(), 55432, true, idleTimeout, by, false, ComputeMode.READ_WRITE);
    }

    @Test
    void aNodesOwnIdleTimeoutWins() {
        assertThat(node("30s", StartedBy.HAND).effectiveIdleTimeout(FIVE_MINUTES)).hasToString("30s");
        assertThat(node("never", StartedBy.CONNECTION).effectiveIdleTimeout(FIVE_MINUTES).isNever()).isTrue();
    }

    @Test
    void aConnectionStartedNodeTakesTheRepositorysAndAHandStartedOneRunsUntilStopped() {
        assertThat(node(null, StartedBy.CONNECTION).effectiveIdleTimeout(FIVE_MINUTES)).isEqualTo(FIVE_MINUTES);
        assertThat(node(null, StartedBy.HAND).effectiveIdleTimeout(FIVE_MINUTES).isNever()).isTrue();
    }

    @Test
    void suspendingKeepsTheNodeButStartingAgainClearsTheMark() {
        ComputeNode suspended = node(null, StartedBy.CONNECTION).asSuspended();
        assertThat(suspended.suspended()).isTrue();
        assertThat(suspended.wantRunning()).isFalse();
        assertThat(suspended.withWantRunning(false).suspended()).as("a stop keeps the mark").isTrue();
        assertThat(suspended.started(StartedBy.HAND, "1m")).extracting(ComputeNode::suspended, ComputeNode::idleTimeout,
                ComputeNode::startedBy).containsExactly(false, "1m", StartedBy.HAND);
    }

    @Test
    void anIdleTimeoutIsDueOnceOutlivedAndNeverIsNeverDue() {
        long fiveMinutes = Duration.ofMinutes(5).toNanos();
        assertThat(Suspender.isDue(FIVE_MINUTES, fiveMinutes - 1)).isFalse();
        assertThat(Suspender.isDue(FIVE_MINUTES, fiveMinutes)).isTrue();
        assertThat(Suspender.isDue(IdleTimeout.parse("0"), 0)).isTrue();
        assertThat(Suspender.isDue(IdleTimeout.NEVER, Long.MAX_VALUE)).isFalse();
    }

    @Test
    void anImageIsDueOnceTheThresholdOfWalPiledUp() {
        long threshold = 256L << 20;
        Lsn from = Lsn.parse("0/1000000");
        assertThat(Images.isDue(from, new Lsn(from.value() + threshold - 1), threshold)).isFalse();
        assertThat(Images.isDue(from, new Lsn(from.value() + threshold), threshold)).isTrue();
    }

    @Test
    void theStateAComputeShows() {
        assertThat(StatusView.state(true, false, false, false, false)).isEqualTo(ComputeState.STARTING);
        assertThat(StatusView.state(false, true, false, false, true)).as("running but not answering yet")
                .isEqualTo(ComputeState.STARTING);
        assertThat(StatusView.state(false, true, true, false, true)).isEqualTo(ComputeState.RUNNING);
        assertThat(StatusView.state(false, false, false, true, true)).isEqualTo(ComputeState.SUSPENDED);
        assertThat(StatusView.state(false, false, false, false, true)).isEqualTo(ComputeState.STOPPED);
        assertThat(StatusView.state(false, false, false, false, false)).isEqualTo(ComputeState.NEW);
        assertThat(ComputeState.SUSPENDED).hasToString("suspended");
    }

    @Test
    void aStopKeepsAnImageCheaplyWhereTheFileSystemClonesAndWhereItCopiesOnceReplayWouldCostACopy() {
        RepositoryConfig defaults = Repositories.config(8, "24h");
        assertThat(Images.stopThresholdBytes(defaults, FileCopies.CLONE, 1L << 30)).isEqualTo(16L << 20);
        assertThat(Images.stopThresholdBytes(defaults, FileCopies.WRITE, 320L << 20)).as("a quarter of the database")
                .isEqualTo(80L << 20);
        assertThat(Images.stopThresholdBytes(defaults, FileCopies.WRITE, 8L << 20)).as("small").isEqualTo(16L << 20);
        assertThat(Images.stopThresholdBytes(defaults, FileCopies.WRITE, 4L << 30)).as("as for a running compute")
                .isEqualTo(256L << 20);
        RepositoryConfig set = RepositoryConfig.defaults().superuser("zenith").imageAtStopMb(1).build();
        assertThat(Images.stopThresholdBytes(set, FileCopies.WRITE, 1L << 30)).as("configured").isEqualTo(1L << 20);
    }
}
