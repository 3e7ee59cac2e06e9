package dev.zenith.cli;

import dev.zenith.RotatedLog;
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
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * {@code logs [-n N] [-f]} for the daemon's and the computes' log files: the last lines, across the
 * rolled generations ({@link RotatedLog}), then, when following, what is appended, as {@code tail -F}
 * does (commons-io's {@link Tailer}: it polls the file's size, which works on every file system where
 * inotify does not, and starts over when the file is truncated or replaced, which is how a roll shows).
 */
final class LogTail {

    private static final Duration POLL = Duration.ofMillis(200);

    private LogTail() {
    }

    /** Prints the log's last {@code lines} lines (all when null), then follows it until interrupted when {@code follow}. */
    static int run(Path file, Integer lines, boolean follow, PrintWriter out) throws IOException {
        RotatedLog log = new RotatedLog(file);
        if (lines != null && lines < 0) {
            throw ZenithException.badRequest("--tail must be 0 or more, not " + lines);
        }
        if (log.generations().isEmpty()) {
            throw ZenithException.notFound("no log yet at " + file, "it is written from the first start on");
        }
        if (follow) {
            follow(log, lines, out);
        } else {
            lastLines(log.generations(), lines).forEach(out::println);
        }
        out.flush();
        return 0;
    }

    /** The last {@code lines} lines (all when null) of {@code files} (oldest first) read as one, oldest first. */
    private static List<String> lastLines(List<Path> files, Integer lines) throws IOException {
        if (lines == null) {
            List<String> all = new ArrayList<>();
            for (Path file : files) {
                all.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
            }
            return all;
        }
        Deque<String> last = new ArrayDeque<>();
        for (int f = files.size() - 1; f >= 0 && last.size() < lines; f--) {
            try (ReversedLinesFileReader reader = ReversedLinesFileReader.builder().setPath(files.get(f))
                    .setCharset(StandardCharsets.UTF_8).get()) {
                reader.readLines(lines - last.size()).forEach(last::addFirst);
            }
        }
        return List.copyOf(last);
    }

    /**
     * Reads the current file from its start: lines up to the first end of file are kept (the last
     * {@code lines} of them), printed there after what the older generations add to make up the count,
     * and every later line as it comes, so nothing written between the two is lost.
     */
    private static void follow(RotatedLog log, Integer lines, PrintWriter out) {
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
                    List<Path> older = log.generations().stream().filter(f -> !f.equals(log.file())).toList();
                    try {
                        lastLines(older, lines == null ? null : lines - backlog.size()).forEach(out::println);
                    } catch (IOException e) {
                        out.println("(cannot read the older log " + older + ": " + e.getMessage() + ")");
                    }
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
        try (Tailer tailer = Tailer.builder().setPath(log.file()).setCharset(StandardCharsets.UTF_8).setTailerListener(listener)
                .setDelayDuration(POLL).setStartThread(false).get()) {
            tailer.run();
        }
    }
}
