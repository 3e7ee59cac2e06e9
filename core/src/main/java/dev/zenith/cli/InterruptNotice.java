package dev.zenith.cli;

import java.io.PrintWriter;

/**
 * What a command says when Ctrl-C (or a kill) ends it while the pageserver works for it: the work goes on
 * in the daemon, which the user would not guess from a command that just vanished, and how to undo it.
 */
final class InterruptNotice implements AutoCloseable {

    private final Thread hook;

    private InterruptNotice(Thread hook) {
        this.hook = hook;
    }

    /** Until closed, an interrupted command prints "interrupted; {@code goesOn}". */
    static InterruptNotice saying(PrintWriter err, String goesOn) {
        Thread hook = new Thread(() -> {
            err.println();
            err.println("zenith: interrupted; " + goesOn);
            err.flush();
        }, "interrupt-notice");
        Runtime.getRuntime().addShutdownHook(hook);
        return new InterruptNotice(hook);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook runs, as it should
        }
    }
}
