package dev.zenith.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The real psql, as a user runs it. CI installs it (postgresql-client); elsewhere the tests that need it are skipped. */
final class Psql {

    record Result(int exit, String out, String err) {
    }

    private Psql() {
    }

    static boolean installed() {
        return Files.isExecutable(Path.of("/usr/bin/psql"));
    }

    static void assumeInstalled() {
        assumeTrue(installed(), "psql is not installed (apt-get install postgresql-client)");
    }

    static Result run(String conninfo, Map<String, String> env, String... sql) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("psql", conninfo, "-At", "-v", "ON_ERROR_STOP=1"));
        for (String q : sql) {
            cmd.add("-c");
            cmd.add(q);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("psql did not finish: " + cmd);
        }
        return new Result(p.exitValue(), out.trim(), err.trim());
    }
}
