package dev.zenith.it;

import dev.zenith.storage.FileTrees;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real S3 server for the remote tests: S3Proxy with its filesystem backend, in a process of its own on
 * a free loopback port, with fixed test credentials. Maven copies its jar into target/test-servers. It can
 * be killed and started again on the same port and files, as a server that crashed and came back.
 */
final class S3Server implements AutoCloseable {

    static final String ACCESS_KEY = "zenith-test";
    static final String SECRET_KEY = "zenith-test-secret";
    private static final Path JAR = Path.of("target/test-servers/s3proxy.jar").toAbsolutePath();

    private final Path dir;
    private final int port;
    private Process process;

    private S3Server(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    static S3Server start() throws IOException {
        assertThat(JAR).as("mvn copies S3Proxy there (generate-test-resources)").exists();
        Path dir = Files.createTempDirectory("s3proxy");
        Files.createDirectories(dir.resolve("data"));
        S3Server server = new S3Server(dir, Zenith.freePort());
        Files.writeString(dir.resolve("s3proxy.properties"), String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + server.port,
                "s3proxy.authorization=aws-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + dir.resolve("data"), ""));
        server.launch();
        return server;
    }

    /** Starts the server process (again) on its port and files, and waits until it listens. */
    void launch() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        process = new ProcessBuilder(java, "-jar", JAR.toString(), "--properties", dir.resolve("s3proxy.properties").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("s3proxy.log").toFile()))
                .start();
        try {
            Zenith.waitFor(Duration.ofSeconds(60), () -> process.isAlive() && answers(), "S3Proxy to listen on " + port);
        } catch (AssertionError e) {
            close();
            throw new AssertionError(e.getMessage() + "; its log: " + Files.readString(dir.resolve("s3proxy.log")), e);
        }
    }

    /** Kills the server at once, as a crash would. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
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

    /** Where the server keeps {@code bucket}'s objects, one file per key. */
    Path bucketDir(String bucket) {
        return dir.resolve("data").resolve(bucket);
    }

    static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
    }

    void createBucket(String bucket) {
        try (S3Client admin = S3Client.builder().endpointOverride(URI.create(endpoint())).region(Region.US_EAST_1)
                .credentialsProvider(credentials()).forcePathStyle(true).build()) {
            admin.createBucket(b -> b.bucket(bucket));
        }
    }

    /** Runs {@code work} with the test credentials where the standard AWS chain finds them in this JVM. */
    static void withCredentials(String accessKey, String secretKey, ThrowingRunnable work) throws Exception {
        System.setProperty("aws.accessKeyId", accessKey);
        System.setProperty("aws.secretAccessKey", secretKey);
        try {
            work.run();
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        FileTrees.deleteTree(dir);
    }
}
