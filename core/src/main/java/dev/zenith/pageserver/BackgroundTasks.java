package dev.zenith.pageserver;

import dev.zenith.Locks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The daemon's background work as named tasks on one scheduler, as HikariCP runs its housekeeper: the
 * idle check, images where WAL piled up, garbage collection, spare data directories, expired branches, remote states. Two threads, so a long image or collection
 * never holds back an idle suspend. A task never runs twice at once (its own lock); a failure is logged
 * and the next run goes on.
 */
final class BackgroundTasks implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackgroundTasks.class);

    /** One named piece of work; {@link #run} waits for a run under way rather than overlapping it. */
    static final class Task implements Runnable {
        private final String name;
        private final Runnable work;
        private final ReentrantLock running;

        Task(String name, Runnable work) {
            this.name = name;
            this.work = work;
            this.running = Locks.newLock("task " + name);
        }

        @Override
        public void run() {
            running.lock();
            try {
                work.run();
            } catch (RuntimeException e) {
                log.error("background task {} failed", name, e);
            } finally {
                running.unlock();
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
