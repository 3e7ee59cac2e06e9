package dev.zenith.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
        Zenith.Result r = Zenith.run(pb, Duration.ofSeconds(120));
        return new Result(r.exit(), r.out().trim(), r.err().trim());
    }
}
