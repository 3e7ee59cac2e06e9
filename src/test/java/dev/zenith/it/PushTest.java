package dev.zenith.it;

import dev.zenith.BranchName;
import dev.zenith.RepositoryConfig;
import dev.zenith.remote.BranchManifest;
import dev.zenith.remote.Clone;
import dev.zenith.remote.ObjectStore;
import dev.zenith.remote.Push;
import dev.zenith.remote.S3ObjectStore;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import dev.zenith.storage.Repository;

import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Pushing a branch to a real S3 server: everything its rebuild needs, then a manifest; again, only what changed. */
class PushTest {

    @Test
    void aPushSendsTheBranchOnceAndThenOnlyWhatChanged() throws Exception {
        try (S3Server server = S3Server.start(); Zenith z = Zenith.started()) {
            var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
            try (S3Client admin = S3Client.builder().endpointOverride(URI.create(server.endpoint())).region(Region.US_EAST_1)
                    .credentialsProvider(credentials).forcePathStyle(true).build()) {
                admin.createBucket(b -> b.bucket("team"));
            }
            int main = z.start("main");
            z.execute(main, "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 50000) g");
            z.cli("pageserver", "stop").ok();
            try (ObjectStore store = new S3ObjectStore("team", "shop", Optional.of(URI.create(server.endpoint())),
                    Region.US_EAST_1, true, credentials)) {
                Push.Result first = new Push(z.repository(), store).push(BranchName.MAIN, m -> { });
                assertThat(first.seq()).isEqualTo(1);
                assertThat(first.objectsSent()).isPositive();
                assertThat(store.list("branches/main/")).containsExactly("branches/main/manifest-1.json");

                Push.Result again = new Push(z.repository(), store).push(BranchName.MAIN, m -> { });
                assertThat(again.seq()).isEqualTo(2);
                assertThat(again.objectsSent()).as("nothing changed: nothing sent").isZero();
                assertThat(again.objectsKept()).isEqualTo(first.objectsSent() + first.objectsKept());

                // a clone elsewhere serves the same rows through its own proxy
                try (Zenith other = Zenith.empty()) {
                    Clone clone = new Clone(store);
                    List<BranchManifest> manifests = clone.manifests(List.of());
                    RepositoryConfig defaults = new RepositoryConfig(other.apiPort(), 20000 + new java.util.Random().nextInt(20000),
                            null, null, null, other.proxyPort(), null, List.of(other.dir().toString()), null, 0, null, null, null,
                            0, 0, null, null, false, null, null, 0);
                    Repository cloned = Repository.create(other.repo(), Clone.settings(manifests, defaults));
                    clone.into(cloned, manifests, m -> { });
                    other.cli("pageserver", "start").ok();
                    try (Connection c = other.connectProxy("main"); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                        rs.next();
                        assertThat(rs.getLong(1)).isEqualTo(50000);
                    }
                }
            }
        }
    }

    @Test
    void pushAndCloneFromTheCommandLine() throws Exception {
        try (S3Server server = S3Server.start(); Zenith z = Zenith.started(); Zenith other = Zenith.empty()) {
            var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY));
            try (S3Client admin = S3Client.builder().endpointOverride(URI.create(server.endpoint())).region(Region.US_EAST_1)
                    .credentialsProvider(credentials).forcePathStyle(true).build()) {
                admin.createBucket(b -> b.bucket("team"));
            }
            // the standard AWS chain: here its system properties, as the CLI runs in this JVM
            System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
            System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
            try {
                z.execute(z.start("main"), "CREATE TABLE shared AS SELECT g FROM generate_series(1, 1234) g");
                z.cli("branch", "feature", "main").ok();
                z.cli("pageserver", "stop").ok();
                z.cli("remote", "add", "origin", "s3://team/cli", "--endpoint", server.endpoint()).ok();
                assertThat(z.cli("push", "--all").ok().out()).contains("pushed feature to origin (manifest 1)")
                        .contains("pushed main to origin (manifest 1)");
                assertThat(z.cli("push", "main").ok().out()).contains("0 objects sent");

                other.cli("clone", "s3://team/cli", "--branch", "feature", "--endpoint", server.endpoint(),
                        "--api-port", Integer.toString(other.apiPort()), "--proxy-port", Integer.toString(other.proxyPort()),
                        "--compute-port-base", Integer.toString(20000 + new java.util.Random().nextInt(20000)),
                        "--proxy-socket-dir", other.dir().toString()).ok();
                assertThat(other.cli("remote", "list").ok().out()).contains("origin\ts3://team/cli");
                other.cli("pageserver", "start").ok();
                try (Connection c = other.connectProxy("feature"); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM shared")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(1234);
                }
                try (Zenith third = Zenith.empty()) {
                    Zenith.Result missing = third.cli("clone", "s3://team/cli", "--branch", "nope", "--endpoint", server.endpoint());
                    assertThat(missing.exit()).isEqualTo(1);
                    assertThat(missing.err()).contains("the remote has no branch \"nope\"");
                    assertThat(third.repo()).as("a failed clone leaves nothing").doesNotExist();
                }
            } finally {
                System.clearProperty("aws.accessKeyId");
                System.clearProperty("aws.secretAccessKey");
            }
        }
    }
}
