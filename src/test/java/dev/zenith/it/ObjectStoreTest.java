package dev.zenith.it;

import dev.zenith.remote.ObjectStore;
import dev.zenith.remote.S3ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The remote's object store against a real S3 server: objects are never overwritten, manifests only by compare-and-swap. */
class ObjectStoreTest {

    private static S3Server server;
    private static ObjectStore store;

    @BeforeAll
    static void setUp() throws Exception {
        server = S3Server.start();
        var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
        try (S3Client admin = S3Client.builder().endpointOverride(URI.create(server.endpoint())).region(Region.US_EAST_1)
                .credentialsProvider(credentials).forcePathStyle(true).build()) {
            admin.createBucket(b -> b.bucket("team"));
        }
        store = new S3ObjectStore("team", "shop", Optional.of(URI.create(server.endpoint())), Region.US_EAST_1, true, credentials);
    }

    @AfterAll
    static void tearDown() {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aDataObjectIsWrittenOnceAndNeverOverwritten(@TempDir Path dir) throws Exception {
        Path first = Files.writeString(dir.resolve("a"), "first");
        Path second = Files.writeString(dir.resolve("b"), "second");
        assertThat(store.putIfAbsent("objects/ab/cd", first)).isTrue();
        assertThat(store.putIfAbsent("objects/ab/cd", second)).as("the key exists").isFalse();
        assertThat(new String(store.get("objects/ab/cd").orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("first");
        assertThat(store.list("objects/")).contains("objects/ab/cd");
        assertThat(store.get("objects/none")).isEmpty();
    }

    @Test
    void twoWritersRacingForTheNextManifestLeaveOneWinner() throws Exception {
        assertThat(store.putIfAbsent("branches/main/manifest-1", bytes("v1"))).isTrue();
        assertThat(store.putIfAbsent("branches/main/manifest-1", bytes("again"))).isFalse();
        AtomicInteger wins = new AtomicInteger();
        assertThat(Race.run(2, i -> {
            if (store.putIfAbsent("branches/main/manifest-2", bytes("v2 by " + i))) {
                wins.incrementAndGet();
            }
        })).isEmpty();
        assertThat(wins.get()).isEqualTo(1);
        assertThat(new String(store.get("branches/main/manifest-2").orElseThrow(), StandardCharsets.UTF_8)).startsWith("v2 by ");
        assertThat(store.list("branches/main/")).containsExactlyInAnyOrder("branches/main/manifest-1", "branches/main/manifest-2");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
