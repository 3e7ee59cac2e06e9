package dev.zenith.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * node-postgres (the npm {@code pg} package), Neon's serverless driver, {@code ws} and Drizzle, pinned in
 * src/test/node, installed from the npm registry into target/ once (again when the lock file changes) and
 * driven by the scripts beside it. Without Node.js the tests that need it
 * are skipped, except in CI, where a machine has Node.js and a skip would hide a failure.
 */
final class NodeClients {

    private static final Path SOURCES = Path.of("src/test/node").toAbsolutePath();
    private static final Path INSTALLED = Path.of("target/node-clients").toAbsolutePath();

    record Result(int exit, String out, String err) {
    }

    private NodeClients() {
    }

    static synchronized void assumeInstalled() throws IOException, InterruptedException {
        boolean node = onPath("node") && onPath("npm");
        if (System.getenv("CI") == null) {
            assumeTrue(node, "Node.js and npm are not installed");
        } else {
            assertThat(node).as("CI needs Node.js and npm for the node-postgres tests").isTrue();
        }
        Path lock = INSTALLED.resolve("package-lock.json");
        if (Files.isDirectory(INSTALLED.resolve("node_modules")) && Files.exists(lock)
                && Files.mismatch(lock, SOURCES.resolve("package-lock.json")) == -1) {
            return;
        }
        Files.createDirectories(INSTALLED);
        for (String file : List.of("package.json", "package-lock.json")) {
            Files.copy(SOURCES.resolve(file), INSTALLED.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Result install = run(INSTALLED, 300, "npm", "ci", "--no-audit", "--no-fund");
        assertThat(install.exit()).as("npm ci: " + install.err()).isZero();
    }

    /** Runs {@code script} (in src/test/node) with node and {@code args}. */
    static Result node(String script, Object... args) throws IOException, InterruptedException {
        return node(Map.of(), script, args);
    }

    /** Runs {@code script} with {@code env} added to node's environment. */
    static Result node(Map<String, String> env, String script, Object... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("node", SOURCES.resolve(script).toString()));
        for (Object a : args) {
            cmd.add(String.valueOf(a));
        }
        return run(INSTALLED, 120, env, cmd.toArray(String[]::new));
    }

    private static Result run(Path dir, int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        return run(dir, timeoutSeconds, Map.of(), cmd);
    }

    private static Result run(Path dir, int timeoutSeconds, Map<String, String> env, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("NODE_PATH", INSTALLED.resolve("node_modules").toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("node-out", ".txt");
        Path err = Files.createTempFile("node-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s: "
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).trim(),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
