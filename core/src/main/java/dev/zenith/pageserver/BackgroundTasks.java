package dev.zenith.pageserver;

import dev.zenith.Locks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The daemon's background work as named tasks on one scheduler, as HikariCP runs its housekeeper: the
 * idle check, images where WAL piled up, garbage collection, spare data directories, expired branches,
 * remote states. Two threads, so a long image or collection never holds back an idle suspend. A task never
 * runs twice at once, and never makes a thread wait for it: a run asked for while one is under way is
 * folded into it (the running one goes round once more), so a slow suspend with a hundred last-lease
 * closes behind it still leaves the other thread to GC, images and expiry. A failure is logged and the
 * next run goes on.
 */
final class BackgroundTasks implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackgroundTasks.class);

    /** One named piece of work; {@link #run} during a run under way makes that run go round once more. */
    static final class Task implements Runnable {
        private final String name;
        private final Runnable work;
        /** Held by the thread running the work; only ever tried, never waited for. */
        private final ReentrantLock running;
        /** Asked to run since the running thread last began the work. */
        private final AtomicBoolean again = new AtomicBoolean();

        Task(String name, Runnable work) {
            this.name = name;
            this.work = work;
            this.running = Locks.newLock("task " + name);
        }

        @Override
        public void run() {
            again.set(true);
            // the outer loop catches a request made between the runner's last look and its unlock
            while (again.get() && running.tryLock()) {
                try {
                    while (again.getAndSet(false)) {
                        runOnce();
                    }
                } finally {
                    running.unlock();
                }
            }
        }

        private void runOnce() {
            try {
                work.run();
            } catch (RuntimeException e) {
                log.error("background task {} failed", name, e);
            }
        }
    }

    private final ScheduledThreadPoolExecutor scheduler =
            new ScheduledThreadPoolExecutor(2, Thread.ofPlatform().daemon().name("background-", 0).factory());

    /** Runs {@code task} after {@code firstAfter}, then {@code interval} after each run ends. */
    void every(Task task, Duration firstAfter, Duration interval) {
        scheduler.scheduleWithFixedDelay(task, firstAfter.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} once more, as soon as a thread is free; nothing once the daemon is stopping. */
    void soon(Task task) {
        try {
            scheduler.execute(task);
        } catch (RejectedExecutionException stopping) {
            log.debug("{} not run: the daemon is stopping", task.name);
        }
    }

    @Override
    public void close() throws InterruptedException {
        scheduler.shutdownNow();
        scheduler.awaitTermination(1, TimeUnit.MINUTES);
    }
}
