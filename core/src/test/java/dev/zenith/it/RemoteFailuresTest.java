package dev.zenith.it;

import dev.zenith.postgres.OsUser;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What goes wrong with a remote is told plainly and damages nothing: wrong credentials, a missing bucket,
 * an endpoint nobody answers, a corrupted object; and the remote's GC, which keeps what manifests name.
 */
class RemoteFailuresTest {

    @Test
    void badRemotesAndACorruptedObjectAreClearErrorsThatLeaveNothing() throws Exception {
        try (S3Server server = S3Server.start(); Zenith origin = Zenith.started()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                origin.execute(origin.start("main"), "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 20000) g");
                origin.cli("remote", "add", "origin", "s3://team/shop", "--endpoint", server.endpoint()).ok();
                origin.cli("push", "main").ok();

                assertClone("s3://nobucket/shop", server.endpoint(), "the bucket \"nobucket\" does not exist");
                assertClone("s3://team/shop", "http://127.0.0.1:" + Zenith.freePort(), "cannot reach the remote s3://team/shop");
                if (OsUser.currentUid() == 0) {
                    try (Mount small = Mount.tmpfs("4m"); Zenith target = Zenith.in(small.dir())) {
                        Zenith.Result full = target.cli("clone", "s3://team/shop", "--endpoint", server.endpoint());
                        assertThat(full.exit()).as(full.err()).isEqualTo(1);
                        assertThat(full.err()).as("a full disk is not a corrupted object")
                                .contains("No space left on device").doesNotContain("corrupted");
                        assertThat(target.repo()).as("a failed clone leaves nothing").doesNotExist();
                    }
                }

                Path largest;
                try (Stream<Path> files = Files.walk(server.bucketDir("team").resolve("shop/objects"))) {
                    largest = files.filter(Files::isRegularFile).max(Comparator.comparingLong(RemoteFailuresTest::size)).orElseThrow();
                }
                byte[] bytes = Files.readAllBytes(largest);
                bytes[bytes.length / 2] ^= 0x5a;
                Files.write(largest, bytes);
                assertClone("s3://team/shop", server.endpoint(), "the remote object objects/" + largest.getParent().getFileName()
                        + "/" + largest.getFileName() + " is corrupted");
            });
            S3Server.withCredentials(S3Server.ACCESS_KEY, "wrong-secret", () ->
                    assertClone("s3://team/shop", server.endpoint(), "refused the credentials"));
            S3Server.withCredentials(S3Server.ACCESS_KEY, "wrong-secret", () -> {
                Zenith.Result push = origin.cli("push", "main");
                assertThat(push.exit()).isEqualTo(1);
                assertThat(push.err()).contains("refused the credentials").contains("AWS_ACCESS_KEY_ID");
            });

            // no credentials anywhere (this JVM and the daemon have none): one sentence of where zenith looked
            try (Zenith target = Zenith.empty()) {
                Zenith.Result none = target.cli("clone", "s3://team/shop", "--endpoint", server.endpoint());
                assertThat(none.exit()).as(none.err()).isEqualTo(1);
                assertThat(none.err()).contains("no S3 credentials for the remote s3://team/shop").contains("~/.aws/credentials")
                        .doesNotContain("CredentialsProvider").hasSizeLessThan(600);
            }
            Zenith.Result status = origin.cli("remote", "status");
            assertThat(status.exit()).as("a remote that cannot be read fails the command").isEqualTo(1);
            assertThat(status.err().lines()).as("said once, not per branch: %s", status.err()).hasSize(1)
                    .allMatch(l -> l.startsWith("zenith: cannot read remote origin: no S3 credentials"));
        }
    }

    @Test
    void remoteGcKeepsWhatTheNewestManifestsNameAndWaitsForPushes() throws Exception {
        try (S3Server server = S3Server.start(); Zenith origin = Zenith.started(); Zenith teammate = Zenith.empty()) {
            server.createBucket("team");
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> {
                int main = origin.start("main");
                origin.execute(main, "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 20000) g");
                origin.cli("remote", "add", "origin", "s3://team/gc", "--endpoint", server.endpoint()).ok();
                origin.cli("push", "main").ok();
                origin.execute(main, "INSERT INTO orders VALUES (0)");
                origin.cli("pg", "stop", "main").ok();
                origin.cli("push", "main").ok();
                try (S3Client s3 = S3Client.builder().endpointOverride(URI.create(server.endpoint())).region(Region.US_EAST_1)
                        .credentialsProvider(S3Server.credentials()).forcePathStyle(true).build()) {
                    s3.putObject(b -> b.bucket("team").key("gc/objects/00/orphan-of-a-cut-push"), RequestBody.fromString("x"));
                    s3.putObject(b -> b.bucket("team").key("gc/locks/push-running.json"), RequestBody.fromString("{}"));
                    Zenith.Result refused = origin.cli("gc", "--remote", "origin");
                    assertThat(refused.exit()).isEqualTo(1);
                    assertThat(refused.err()).contains("a push to the remote is under way");
                    s3.deleteObject(b -> b.bucket("team").key("gc/locks/push-running.json"));
                }
                String gc = origin.cli("gc", "--remote", "origin").ok().out();
                assertThat(gc).contains("removed 1 old manifest and");
                assertThat(Files.exists(server.bucketDir("team").resolve("gc/objects/00/orphan-of-a-cut-push"))).isFalse();
                assertThat(RemoteTest.manifests(server, "gc", "main")).containsExactly("manifest-2.json");

                List<String> clone = new ArrayList<>(List.of("clone", "s3://team/gc", "--endpoint", server.endpoint()));
                clone.addAll(teammate.listenArgs());
                teammate.cli(clone.toArray(String[]::new)).ok();
                teammate.cli("pageserver", "start").ok();
                assertThat(RemoteTest.count(teammate, "main")).as("what the kept manifest names is all there").isEqualTo(20001);
            });
        }
    }

    private static void assertClone(String url, String endpoint, String error) {
        try (Zenith target = Zenith.empty()) {
            Zenith.Result r = target.cli("clone", url, "--endpoint", endpoint);
            assertThat(r.exit()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).contains(error);
            assertThat(target.repo()).as("a failed clone leaves nothing").doesNotExist();
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
