package dev.zenith.it;

import dev.zenith.storage.FileTrees;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real S3 server for the remote tests: S3Proxy with its filesystem backend, in a process of its own on
 * a free loopback port, with fixed test credentials. Maven copies its jar into target/test-servers.
 */
final class S3Server implements AutoCloseable {

    static final String ACCESS_KEY = "zenith-test";
    static final String SECRET_KEY = "zenith-test-secret";
    private static final Path JAR = Path.of("target/test-servers/s3proxy.jar").toAbsolutePath();

    private final Path dir;
    private final int port;
    private final Process process;

    private S3Server(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    static S3Server start() throws IOException {
        assertThat(JAR).as("mvn copies S3Proxy there (generate-test-resources)").exists();
        Path dir = Files.createTempDirectory("s3proxy");
        Files.createDirectories(dir.resolve("data"));
        int port = Zenith.freePort();
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + dir.resolve("data"), ""));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "-jar", JAR.toString(), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
        S3Server server = new S3Server(dir, port, process);
        try {
            Zenith.waitFor(Duration.ofSeconds(60), () -> process.isAlive() && server.answers(), "S3Proxy to listen on " + port);
        } catch (AssertionError e) {
            server.close();
            throw new AssertionError(e.getMessage() + "; its log: " + Files.readString(dir.resolve("s3proxy.log")), e);
        }
        return server;
    }

    private boolean answers() {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        FileTrees.deleteTree(dir);
    }
}
