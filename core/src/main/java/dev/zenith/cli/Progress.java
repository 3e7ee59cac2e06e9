package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.ZenithException;
import dev.zenith.model.OperationInfo;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A progress bar on stderr for a long call: an API call (a compute made from a large branch, an image, GC,
 * a push or pull), whose progress is polled from the daemon's {@code /v1/operations}, or a local one (a
 * clone), read from the work itself; drawn on one line with bytes and rate. Drawn by hand: the progress is the daemon's, read over HTTP, and a terminal progress library
 * would bring its own terminal handling for one redrawn line.
 *
 * <p>Shown when stderr is a terminal (the launcher passes {@code -Dzenith.progress=always} then) or
 * when {@code ZENITH_PROGRESS=always}; never in pipes and scripts otherwise.
 */
final class Progress {

    private static final long POLL_MS = 150;
    private static final int WIDTH = 24;
    private static final String SPINNER = "|/-\\";

    private Progress() {
    }

    static boolean enabled() {
        return "always".equals(System.getProperty("zenith.progress", System.getenv("ZENITH_PROGRESS")));
    }

    /** Runs {@code call}, drawing the progress of the daemon's operations that {@code mine} picks. */
    static <T> T around(ApiClient api, PrintWriter err, Predicate<OperationInfo> mine, Supplier<T> call) {
        return around(err, () -> operations(api).stream().filter(mine).findFirst(), call);
    }

    /** Runs {@code call}, drawing what {@code current} says of it while it runs. */
    static <T> T around(PrintWriter err, Supplier<Optional<OperationInfo>> current, Supplier<T> call) {
        if (!enabled()) {
            return call.get();
        }
        CompletableFuture<T> result = CompletableFuture.supplyAsync(call, r -> Thread.ofVirtual().start(r));
        int frame = 0;
        boolean drawn = false;
        try {
            while (true) {
                try {
                    return result.get(POLL_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillRunning) {
                    Optional<OperationInfo> op = current.get();
                    if (op.isPresent()) {
                        err.print("\r" + line(op.get(), frame++) + "\033[K");
                        err.flush();
                        drawn = true;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            if (drawn) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }

    static List<OperationInfo> operations(ApiClient api) {
        try {
            return api.get("/v1/operations", new TypeReference<List<OperationInfo>>() { });
        } catch (ZenithException e) {
            return List.of(); // the call itself will report what went wrong
        }
    }

    /** {@code start pg1 (feature): copying image [#########...............]  38%  15.2 MiB/40.0 MiB  1.4 s} */
    static String line(OperationInfo op, int frame) {
        StringBuilder line = new StringBuilder(op.kind());
        if (op.compute() != null) {
            line.append(' ').append(op.compute());
            if (op.branch() != null) {
                line.append(" (").append(op.branch()).append(')');
            }
        } else if (op.branch() != null) {
            line.append(' ').append(op.branch());
        }
        line.append(": ").append(op.phase()).append(' ');
        if (op.total() > 0) {
            int filled = (int) (WIDTH * op.done() / op.total());
            line.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%%  ", 100 * op.done() / op.total()))
                    .append(Bytes.human(op.done())).append('/').append(Bytes.human(op.total()));
            if (op.elapsedMillis() >= 1000) {
                line.append("  ").append(Bytes.human(op.done() * 1000 / op.elapsedMillis())).append("/s");
                if (op.done() > 0 && op.done() < op.total()) {
                    long leftMillis = (op.total() - op.done()) * op.elapsedMillis() / op.done();
                    line.append(String.format(Locale.ROOT, "  ~%d s left", Math.max(1, leftMillis / 1000)));
                }
            }
        } else {
            line.append(SPINNER.charAt(frame % SPINNER.length()));
        }
        return line.append(String.format(Locale.ROOT, "  %.1f s", op.elapsedMillis() / 1000.0)).toString();
    }
}
