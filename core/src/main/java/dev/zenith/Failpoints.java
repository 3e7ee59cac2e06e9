package dev.zenith;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Named places in multi-step operations where a crash must leave nothing half-made, so tests can kill
 * the daemon exactly there, as Neon's failpoints do. A name listed in the repository's
 * {@code failpoints} file (one per line) makes the thread reaching it log "failpoint NAME reached" and
 * wait there until the process is killed, or until the name leaves the file (then it goes on: tests
 * hold an operation in a known phase that way). Without the file each check is one {@code stat}, on
 * operations that copy whole data directories anyway.
 */
public final class Failpoints {

    private static final Logger log = LoggerFactory.getLogger(Failpoints.class);
    public static final String FILE = "failpoints";
    private static volatile Path file;

    private Failpoints() {
    }

    /** The daemon of this repository watches its failpoints file from now on. */
    public static void watch(Path repositoryRoot) {
        file = repositoryRoot.resolve(FILE);
    }

    public static void reach(String name) {
        if (!armed(name)) {
            return;
        }
        log.warn("failpoint {} reached: waiting here until the process is killed or the failpoint is removed", name);
        while (armed(name)) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted at failpoint " + name);
            }
        }
        log.warn("failpoint {} released", name);
    }

    private static boolean armed(String name) {
        Path f = file;
        if (f == null || !Files.exists(f)) {
            return false;
        }
        try {
            return Files.readAllLines(f).stream().map(String::strip).anyMatch(name::equals);
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
