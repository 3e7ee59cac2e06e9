package dev.zenith.pageserver;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The scheduler's tasks on real threads: a slow task asked for again and again never starves the others. */
class BackgroundTasksTest {

    @Test
    void aSlowTaskAskedForManyTimesLeavesAThreadToTheOthersAndRunsOnceMoreAfter() throws Exception {
        CountDownLatch slowEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger slowRuns = new AtomicInteger();
        BackgroundTasks.Task slow = new BackgroundTasks.Task("idle-check", () -> {
            slowRuns.incrementAndGet();
            slowEntered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CountDownLatch gcRan = new CountDownLatch(1);
        BackgroundTasks.Task gc = new BackgroundTasks.Task("gc", gcRan::countDown);
        try (BackgroundTasks tasks = new BackgroundTasks()) {
            tasks.soon(slow);
            assertThat(slowEntered.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 100; i++) {
                tasks.soon(slow); // every last-lease close asks for an idle check
            }
            tasks.every(gc, Duration.ZERO, Duration.ofHours(1));
            assertThat(gcRan.await(30, TimeUnit.SECONDS)).as("gc ran while the slow task held a thread").isTrue();
            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (slowRuns.get() < 2 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(slowRuns.get()).as("the requests made during the run fold into one more run").isEqualTo(2);
        }
    }
}
