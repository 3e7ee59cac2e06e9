package dev.zenith.cli;

import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * {@code logs [-n N] [-f]} for the daemon's and the computes' log files: the last lines, then, when
 * following, what is appended, as {@code tail -F} does. Polls the file's size: the logs are appended to
 * in place (Postgres's stderr through pg_ctl -l, the daemon's logger), and a poll works on every file
 * system, where inotify does not.
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
        long position = printLast(file, lines, out);
        out.flush();
        while (follow && !Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long size = Files.exists(file) ? Files.size(file) : 0;
            if (size < position) {
                position = 0; // truncated or replaced: start over, as tail -F does
            }
            if (size > position) {
                position = copy(file, position, size, out);
                out.flush();
            }
        }
        return 0;
    }

    private static long printLast(Path file, Integer lines, PrintWriter out) throws IOException {
        long size = Files.size(file);
        if (lines == null) {
            return copy(file, 0, size, out);
        }
        Deque<String> last = new ArrayDeque<>();
        try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                last.addLast(line);
                if (last.size() > lines) {
                    last.removeFirst();
                }
            }
        }
        last.forEach(out::println);
        return size;
    }

    private static long copy(Path file, long from, long to, PrintWriter out) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(from);
            byte[] buffer = new byte[(int) Math.min(to - from, 1 << 20)];
            long position = from;
            while (position < to) {
                int n = f.read(buffer, 0, (int) Math.min(buffer.length, to - position));
                if (n < 0) {
                    break;
                }
                out.write(new String(buffer, 0, n, StandardCharsets.UTF_8));
                position += n;
            }
            return position;
        }
    }
}
