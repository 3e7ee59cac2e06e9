package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.ZenithException;
import dev.zenith.storage.Retention;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which points of a branch's history a new branch or a read-only view may take. */
class BranchPointsTest {

    private static final BranchName MAIN = BranchName.MAIN;
    private static final Lsn START = Lsn.parse("0/1000000");
    private static final Lsn END = Lsn.parse("0/5000000");
    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    private static final Instant CREATED = NOW.minus(Duration.ofDays(3));
    private static final Retention DAY = Retention.parse("24h");

    @Test
    void anLsnFromStartToEndIsAccepted() {
        for (Lsn at : new Lsn[] {START, Lsn.parse("0/3000000"), END}) {
            assertThatCode(() -> BranchPoints.checkLsn(MAIN, at, START, END)).doesNotThrowAnyException();
        }
    }

    @Test
    void anLsnBeforeTheBranchStartsIsRefusedWithTheRange() {
        assertThatThrownBy(() -> BranchPoints.checkLsn(MAIN, Lsn.parse("0/FFFFFF"), START, END))
                .isInstanceOf(ZenithException.class)
                .hasMessage("LSN 0/FFFFFF is outside branch main's history: it starts at 0/1000000; choose an LSN from"
                        + " 0/1000000 to 0/5000000");
    }

    @Test
    void anLsnAfterTheEndOfWalIsRefusedWithTheRange() {
        assertThatThrownBy(() -> BranchPoints.checkLsn(MAIN, Lsn.parse("0/5000001"), START, END))
                .hasMessageContaining("its WAL ends at 0/5000000").hasMessageEndingWith("from 0/1000000 to 0/5000000");
    }

    @Test
    void aTimeWithinTheWindowIsAccepted() {
        assertThatCode(() -> BranchPoints.checkTime(MAIN, NOW.minus(Duration.ofHours(1)), NOW, CREATED, DAY))
                .doesNotThrowAnyException();
        assertThatCode(() -> BranchPoints.checkTime(MAIN, NOW, NOW, CREATED, DAY)).doesNotThrowAnyException();
    }

    @Test
    void aTimeInTheFutureIsRefused() {
        assertThatThrownBy(() -> BranchPoints.checkTime(MAIN, NOW.plusSeconds(1), NOW, CREATED, DAY))
                .hasMessageContaining("is in the future; choose a time from " + NOW.minus(Duration.ofDays(1)) + " to " + NOW);
    }

    @Test
    void aTimeBeforeTheBranchExistedIsRefused() {
        assertThatThrownBy(() -> BranchPoints.checkTime(MAIN, CREATED.minusSeconds(1), NOW, CREATED, Retention.parse("never")))
                .hasMessageContaining("is before branch main existed (created " + CREATED + "); choose a time from " + CREATED);
    }

    @Test
    void refusalsNameWholeSecondsInsideTheRange() {
        Instant now = NOW.plusNanos(123_456_789);
        Instant created = CREATED.plusNanos(987_654_321);
        assertThatThrownBy(() -> BranchPoints.checkTime(MAIN, now.plusSeconds(5), now, created, Retention.parse("never")))
                .hasMessageEndingWith("choose a time from " + CREATED.plusSeconds(1) + " to " + NOW);
    }

    @Test
    void aTimeOlderThanTheRetentionWindowIsRefused() {
        assertThatThrownBy(() -> BranchPoints.checkTime(MAIN, NOW.minus(Duration.ofHours(25)), NOW, CREATED, DAY))
                .hasMessageContaining("is older than the retention window of branch main (24h)");
    }

    @Test
    void withRetentionNeverTheWholeLifeIsReachable() {
        assertThatCode(() -> BranchPoints.checkTime(MAIN, CREATED, NOW, CREATED, Retention.parse("never")))
                .doesNotThrowAnyException();
    }
}
