package dev.zenith;

import ch.qos.logback.classic.LoggerContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Logs that roll instead of growing forever: the computes' (copy and truncate) and the daemon's (logback). */
class RotatedLogTest {

    @TempDir
    Path dir;

    @Test
    void aComputeLogRollsOverItsCapKeepingThreeOlderGenerations() throws Exception {
        RotatedLog log = new RotatedLog(dir.resolve("compute-main.log"));
        assertThat(log.generations()).isEmpty();
        List<String> written = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 10; i++) {
                String line = "round " + round + " line " + i;
                written.add(line);
                Files.writeString(log.file(), line + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }
            assertThat(log.rollIfOver(1000)).as("under the cap").isFalse();
            assertThat(log.rollIfOver(100)).as("over the cap").isTrue();
        }
        Files.writeString(log.file(), "after\n");
        written.add("after");
        assertThat(log.generations()).extracting(p -> p.getFileName().toString())
                .containsExactly("compute-main.log.3", "compute-main.log.2", "compute-main.log.1", "compute-main.log");
        List<String> kept = new ArrayList<>();
        for (Path generation : log.generations()) {
            kept.addAll(Files.readAllLines(generation));
        }
        assertThat(kept).as("the newest rounds, in order; the oldest two dropped").isEqualTo(written.subList(20, written.size()));
    }

    @Test
    void theDaemonLogRollsAsItIsWritten() {
        Path file = dir.resolve("pageserver.log");
        String oldFile = System.getProperty(LogSetup.FILE_PROPERTY);
        String oldSize = System.getProperty(LogSetup.MAX_SIZE_PROPERTY);
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        try {
            System.setProperty(LogSetup.FILE_PROPERTY, file.toString());
            System.setProperty(LogSetup.MAX_SIZE_PROPERTY, "2000");
            LogSetup setup = new LogSetup();
            setup.setContext(context);
            setup.configure(context);
            org.slf4j.Logger logger = context.getLogger("dev.zenith.pageserver.PageServer");
            IntStream.range(0, 400).forEach(i -> logger.info("event {} {}", i, "x".repeat(40)));
        } finally {
            context.stop();
            restore(LogSetup.FILE_PROPERTY, oldFile);
            restore(LogSetup.MAX_SIZE_PROPERTY, oldSize);
        }
        RotatedLog log = new RotatedLog(file);
        assertThat(log.generations()).hasSize(RotatedLog.KEPT + 1);
        assertThat(log.generations()).allSatisfy(p -> assertThat(Files.size(p)).isLessThan(2000 + 200));
        assertThat(readAll(log)).last().asString().contains("[INFO] PageServer - event 399 ");
    }

    private static List<String> readAll(RotatedLog log) {
        List<String> lines = new ArrayList<>();
        for (Path p : log.generations()) {
            try {
                lines.addAll(Files.readAllLines(p));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return lines;
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
