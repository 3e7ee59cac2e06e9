package dev.zenith.it;

import dev.zenith.remote.ObjectPacker;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        assertThat(store.putIfAbsent("branches/main/manifest-1", bytes("v1"))).as("a retried write finding its own first try").isTrue();
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

    @Test
    void filesArePackedByContentOnceAndCheckedWhenUnpacked(@TempDir Path dir) throws Exception {
        // a WAL segment's shape: a little data, then zeros to 16 MB
        byte[] segment = new byte[16 << 20];
        for (int i = 0; i < 200_000; i++) {
            segment[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("000000010000000000000003"), segment);
        ObjectPacker packer = new ObjectPacker(store, dir.resolve("scratch"), new dev.zenith.remote.Transfer());
        ObjectPacker.Packed first = packer.pack(file);
        assertThat(first.uploaded()).isTrue();
        assertThat(first.ref().storedSize()).as("compressed").isLessThan(segment.length / 10);
        assertThat(packer.pack(file).uploaded()).as("the same content again: nothing sent").isFalse();

        Path back = dir.resolve("restored/000000010000000000000003");
        packer.unpack(packer.toFile(first.ref(), back));
        assertThat(Files.readAllBytes(back)).isEqualTo(segment);

        // an object whose stored bytes do not match its name is refused, naming it, and nothing is written
        String fakeHash = "00".repeat(32);
        ObjectPacker.ObjectRef forged = new ObjectPacker.ObjectRef("objects/00/" + fakeHash, fakeHash, 5, 5);
        assertThat(store.putIfAbsent(forged.key(), bytes("not zstd at all"))).isTrue();
        Path target = dir.resolve("restored/forged");
        assertThatThrownBy(() -> packer.unpack(packer.toFile(forged, target))).isInstanceOf(dev.zenith.ZenithException.class)
                .hasMessageContaining("the remote object " + forged.key() + " is corrupted");
        assertThat(target).doesNotExist();
        assertThatThrownBy(() -> packer.unpack(packer.toFile(new ObjectPacker.ObjectRef("objects/ff/missing", "ff", 1, 1), target)))
                .hasMessageContaining("the remote has no object objects/ff/missing");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
