package dev.zenith.junit.compat;

import dev.zenith.junit.ZenithBranch;
import dev.zenith.junit.ZenithExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * zenith-junit in a project on JUnit 5.9.3, declared before junit-jupiter: the project's JUnit is the one
 * that runs (zenith-junit once brought 5.13's API, which won and failed before any test ran), and a test
 * gets its branch.
 */
@ExtendWith({OldestJUnitTest.FreshRepository.class, ZenithExtension.class})
class OldestJUnitTest {

    @Test
    void theProjectsJUnitRunsAndATestGetsABranch(@ZenithBranch Connection c) throws SQLException {
        assertEquals("5.9.3", Test.class.getPackage().getImplementationVersion(), "the JUnit the project declared");
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.junit.platform.engine.reporting.OutputDirectoryProvider"),
                "no newer JUnit platform came along");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int / 10000")) {
            rs.next();
            assertEquals(18, rs.getInt(1));
        }
    }

    /** A repository of its own on free ports for this class, named to the extension by {@code zenith.repo}; removed after. */
    static final class FreshRepository implements BeforeAllCallback, AfterAllCallback {

        private Path dir;

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            dir = Files.createTempDirectory(Path.of("/tmp"), "zenith-junit-compat");
            // Postgres runs as nobody when the tests run as root: it must reach the repository
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            System.setProperty("zenith.repo", dir.resolve(".zenith").toString());
            zenith("init", "--api-port", freePort(), "--proxy-port", freePort(), "--proxy-socket-dir", dir.toString(),
                    "--compute-port-base", String.valueOf(20000 + (int) (Math.random() * 20000)));
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            try {
                zenith("pageserver", "stop");
            } finally {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }

        private static void zenith(String... args) throws IOException, InterruptedException {
            List<String> line = new ArrayList<>(List.of(System.getProperty("zenith.command"), "--repo", System.getProperty("zenith.repo")));
            line.addAll(List.of(args));
            Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), () -> String.join(" ", line) + ": " + out);
        }

        private static String freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0)) {
                return String.valueOf(s.getLocalPort());
            }
        }
    }
}
