package dev.zenith;

import com.google.common.util.concurrent.CycleDetectingLockFactory;
import org.junit.jupiter.api.Test;

import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The suite runs with ZENITH_LOCK_CHECKS=on (surefire's configuration), as every daemon a test starts. */
class LocksTest {

    @Test
    void anInversionFailsTheFirstTimeBothOrdersOccurOnOneThreadWithoutEverColliding() {
        ReentrantLock timeline = Locks.newLock("test timeline");
        ReentrantReadWriteLock archive = Locks.newReadWriteLock("test archive");
        timeline.lock();
        archive.readLock().lock();
        archive.readLock().unlock();
        timeline.unlock();

        archive.readLock().lock();
        try {
            assertThatThrownBy(timeline::lock).isInstanceOf(CycleDetectingLockFactory.PotentialDeadlockException.class)
                    .hasMessageContaining("test archive").hasMessageContaining("test timeline");
        } finally {
            archive.readLock().unlock();
        }
        assertThat(timeline.isHeldByCurrentThread()).isFalse();
    }

    @Test
    void theSameOrderAgainAndReentranceArePermitted() {
        ReentrantLock outer = Locks.newLock("test outer");
        ReentrantLock inner = Locks.newLock("test inner");
        for (int i = 0; i < 3; i++) {
            outer.lock();
            inner.lock();
            outer.lock();
            outer.unlock();
            inner.unlock();
            outer.unlock();
        }
        assertThat(outer.isLocked()).isFalse();
    }
}
