package dev.zenith.cli;

import dev.zenith.ZenithException;
import org.apache.commons.io.input.ReversedLinesFileReader;
import org.apache.commons.io.input.Tailer;
import org.apache.commons.io.input.TailerListenerAdapter;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * {@code logs [-n N] [-f]} for the daemon's and the computes' log files: the last lines, then, when
 * following, what is appended, as {@code tail -F} does (commons-io's {@link Tailer}: it polls the file's
 * size, which works on every file system where inotify does not, and starts over when the file is
 * truncated or replaced).
 */
final class LogTail {

    private static final Duration POLL = Duration.ofMillis(200);

    private LogTail() {
    }

    /** Prints the log's last {@code lines} lines (all when null), then follows it until interrupted when {@code follow}. */
    static int run(Path file, Integer lines, boolean follow, PrintWriter out) throws IOException {
        if (lines != null && lines < 0) {
            throw ZenithException.badRequest("--tail must be 0 or more, not " + lines);
        }
        if (!Files.exists(file)) {
            throw ZenithException.notFound("no log yet at " + file, "it is written from the first start on");
        }
        if (follow) {
            follow(file, lines, out);
        } else {
            printLast(file, lines, out);
        }
        out.flush();
        return 0;
    }

    private static void printLast(Path file, Integer lines, PrintWriter out) throws IOException {
        if (lines == null) {
            try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                reader.lines().forEach(out::println);
            }
            return;
        }
        try (ReversedLinesFileReader reader = ReversedLinesFileReader.builder().setPath(file)
                .setCharset(StandardCharsets.UTF_8).get()) {
            List<String> last = reader.readLines(lines);
            for (int i = last.size() - 1; i >= 0; i--) {
                out.println(last.get(i));
            }
        }
    }

    /**
     * Reads the file from its start: lines up to the first end of file are kept (the last {@code lines}
     * of them), printed there, and every later line as it comes, so nothing written between the two is lost.
     */
    private static void follow(Path file, Integer lines, PrintWriter out) {
        Deque<String> backlog = new ArrayDeque<>();
        TailerListenerAdapter listener = new TailerListenerAdapter() {
            private boolean caughtUp;

            @Override
            public void handle(String line) {
                if (caughtUp) {
                    out.println(line);
                    out.flush();
                    return;
                }
                backlog.addLast(line);
                if (lines != null && backlog.size() > lines) {
                    backlog.removeFirst();
                }
            }

            @Override
            public void endOfFileReached() {
                if (!caughtUp) {
                    caughtUp = true;
                    backlog.forEach(out::println);
                    backlog.clear();
                    out.flush();
                }
            }

            @Override
            public void fileRotated() {
                caughtUp = true; // a new file: everything in it is new
            }
        };
        try (Tailer tailer = Tailer.builder().setPath(file).setCharset(StandardCharsets.UTF_8).setTailerListener(listener)
                .setDelayDuration(POLL).setStartThread(false).get()) {
            tailer.run();
        }
    }
}
