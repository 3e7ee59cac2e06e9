package dev.zenith.junit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A zenith repository for this module's tests, made once per run in a temporary directory on free
 * ports, with a branch "seeded" holding three orders, and its pageserver stopped again: starting it is
 * the extension's job. Named to the extension by the {@code zenith.repo} system property; removed at the end.
 */
final class TestRepository implements BeforeAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TestRepository.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Made.class, k -> make(), Made.class);
    }

    static Path repo() {
        return Path.of(System.getProperty("zenith.repo"));
    }

    /** Runs zenith on the test repository; returns what it printed on stdout, failing the test when it fails. */
    static String zenith(String... args) {
        List<String> line = new ArrayList<>(List.of(System.getProperty("zenith.command"), "--repo", repo().toString()));
        line.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(line).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", line) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Made make() {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "zenith-junit");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            System.setProperty("zenith.repo", dir.resolve(".zenith").toString());
            zenith("init", "--api-port", freePort(), "--proxy-port", freePort(), "--proxy-socket-dir", dir.toString(),
                    "--compute-port-base", String.valueOf(20000 + (int) (Math.random() * 20000)));
            Made made = new Made(dir);
            zenith("pageserver", "start");
            try {
                zenith("branch", "seeded", "main");
                try (Connection c = DriverManager.getConnection(zenith("connstr", "seeded", "--format", "jdbc").strip());
                     Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)");
                    s.execute("INSERT INTO orders VALUES (1, 'tea'), (2, 'bread'), (3, 'milk')");
                }
                zenith("pageserver", "stop");
            } catch (RuntimeException | java.sql.SQLException e) {
                made.close();
                throw e;
            }
            return made;
        } catch (Exception e) {
            throw new IllegalStateException("cannot make the test repository: " + e.getMessage(), e);
        }
    }

    private static String freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return String.valueOf(s.getLocalPort());
        }
    }

    /** The repository, removed when the run ends; its pageserver is stopped first, whoever started it. */
    @SuppressWarnings("deprecation")
    private record Made(Path dir) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                new ProcessBuilder(System.getProperty("zenith.command"), "--repo", repo().toString(), "pageserver", "stop")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
