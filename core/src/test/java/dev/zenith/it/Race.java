package dev.zenith.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/** Racers released at once: each on a thread of its own, all waiting on one gate, so they really overlap. */
final class Race {

    /** One racer's work; {@code index} tells the racers apart. */
    interface Racer {
        void run(int index) throws Exception;
    }

    private static final Duration DEADLINE = Duration.ofMinutes(10);

    private Race() {
    }

    /** Runs {@code racers} racers from one gate and waits for all; returns what they threw, none when all went well. */
    static List<Throwable> run(int racers, Racer racer) throws InterruptedException {
        CountDownLatch gate = new CountDownLatch(1);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    gate.await();
                    racer.run(index);
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        gate.countDown();
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        for (Thread t : threads) {
            t.join(Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1)));
            if (t.isAlive()) {
                throw new AssertionError("a racer did not finish within " + DEADLINE.toMinutes() + " minutes");
            }
        }
        return failures;
    }
}
