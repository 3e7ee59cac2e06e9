package dev.zenith;

import com.google.common.util.concurrent.CycleDetectingLockFactory;
import org.slf4j.LoggerFactory;

import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Makes every lock the daemon's components share, each named after what it guards, so that their order
 * can be checked. The one order is written in docs/ARCHITECTURE.md ("Locks"): a branch's timeline lock,
 * then its parent's, then the archive lock, then the short locks (admission, the node registry's
 * allocation, branches.json and tags.json).
 *
 * <p>With {@code ZENITH_LOCK_CHECKS=on} in the environment (the test suite sets it for the daemons it
 * starts) the locks come from Guava's {@link CycleDetectingLockFactory}: the first acquisition that
 * closes a cycle with an order seen before, on any thread, at any time, fails with a
 * {@link CycleDetectingLockFactory.PotentialDeadlockException}, which is logged as "lock order violated".
 * So an inversion fails the suite the first time both orders occur, not only on the day they collide.
 * Otherwise they are plain {@code java.util.concurrent} locks, at no cost.
 */
public final class Locks {

    /** The log line that says a lock order was violated; tests look for it. */
    public static final String VIOLATION = "lock order violated";

    private static final CycleDetectingLockFactory FACTORY = CycleDetectingLockFactory.newInstance(
            "on".equals(System.getenv("ZENITH_LOCK_CHECKS")) ? Locks::reportAndThrow : CycleDetectingLockFactory.Policies.DISABLED);

    private Locks() {
    }

    public static ReentrantLock newLock(String guards) {
        return FACTORY.newReentrantLock(guards);
    }

    public static ReentrantReadWriteLock newReadWriteLock(String guards) {
        return FACTORY.newReentrantReadWriteLock(guards);
    }

    private static void reportAndThrow(CycleDetectingLockFactory.PotentialDeadlockException e) {
        // looked up here, not held: the CLI makes locks before the daemon points the log at its file
        LoggerFactory.getLogger(Locks.class).error(VIOLATION + ": {}", e.getMessage(), e);
        throw e;
    }
}
