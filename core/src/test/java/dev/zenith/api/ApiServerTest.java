package dev.zenith.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.BranchName;
import dev.zenith.BranchPoint;
import dev.zenith.Json;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import dev.zenith.RepositoryConfig;
import dev.zenith.TagName;
import dev.zenith.TimelineId;
import dev.zenith.ZenithException;
import dev.zenith.compute.BranchOperations.Backup;
import dev.zenith.compute.BranchOperations.Protection;
import dev.zenith.compute.DiskUse;
import dev.zenith.compute.StopMode;
import dev.zenith.model.BranchCreated;
import dev.zenith.model.BranchDeleted;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.BranchRemoteState;
import dev.zenith.model.BranchReset;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.GcResult;
import dev.zenith.model.OperationInfo;
import dev.zenith.model.PullSummary;
import dev.zenith.model.PushSummary;
import dev.zenith.model.RemoteCredentials;
import dev.zenith.model.SchemaDiff;
import dev.zenith.model.TagInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API server over real HTTP on loopback, with a fake backend in place of the daemon's computes:
 * routes, status codes and error bodies, which callers (the CLI, the console, scripts) depend on.
 */
class ApiServerTest {

    private static final HttpClient http = HttpClient.newHttpClient();
    private static final String TOKEN = "the-owners-token";

    private final FakeBackend backend = new FakeBackend();
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private ApiServer server;
    private int port;

    @BeforeEach
    void start() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        RepositoryConfig config = RepositoryConfig.defaults().apiPort(port).superuser("ann").build();
        DaemonFacts facts = new DaemonFacts(Path.of("/repo"), Path.of("/repo/config.json"), Path.of("/repo/logs/pageserver.log"),
                config, List.of("127.0.0.1:5432"), Path.of("/usr/lib/postgresql/18/bin"), "18.1", "nobody", () -> 7);
        server = new ApiServer(new InetSocketAddress("127.0.0.1", port), facts, backend, shutdown::countDown, TOKEN, ClientCommands.NONE);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aCreatedBranchIs201AndReadsBackAsJson() throws Exception {
        HttpResponse<String> created = send("POST", "/v1/branches", "{\"name\": \"feature\", \"parent\": \"main\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(json(created).path("name").asText()).isEqualTo("feature");
        assertThat(json(created).path("parent").asText()).isEqualTo("main");
        assertThat(backend.branches).containsKey("feature");

        HttpResponse<String> deleted = send("DELETE", "/v1/branches/feature", null);
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(json(deleted).path("name").asText()).isEqualTo("feature");
        assertThat(backend.branches).doesNotContainKey("feature");
    }

    @Test
    void aRequestWithoutTheOwnersTokenIs401AndChangesNothing() throws Exception {
        for (String token : new String[] {null, "a-guess", TOKEN + "x"}) {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/branches"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"feature\", \"parent\": \"main\"}"));
            if (token != null) {
                r.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> refused = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).as(String.valueOf(token)).isEqualTo(401);
            assertThat(json(refused).path("hint").asText()).contains("zenith console");
        }
        assertThat(backend.branches).doesNotContainKey("feature");
    }

    @Test
    void eachKindOfRefusalHasItsStatusAndSaysWhatToDo() throws Exception {
        HttpResponse<String> missing = send("DELETE", "/v1/branches/nosuch", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).path("error").asText()).isEqualTo("branch \"nosuch\" does not exist");
        assertThat(json(missing).path("hint").asText()).isEqualTo("zenith branch");

        backend.branches.put("taken", BranchName.of("main"));
        HttpResponse<String> conflict = send("POST", "/v1/branches/main/rename", "{\"to\": \"taken\"}");
        assertThat(conflict.statusCode()).isEqualTo(409);
        assertThat(json(conflict).path("error").asText()).contains("\"taken\" exists");

        HttpResponse<String> limit = send("POST", "/v1/computes/main/start", "{}");
        assertThat(limit.statusCode()).isEqualTo(503);
        assertThat(json(limit).path("error").asText()).startsWith("too many computes running");

        HttpResponse<String> badName = send("POST", "/v1/branches", "{\"name\": \"../etc\"}");
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(json(badName).path("error").asText()).contains("invalid branch name \"../etc\"");

        HttpResponse<String> notJson = send("POST", "/v1/branches", "{\"name\": ");
        assertThat(notJson.statusCode()).isEqualTo(400);

        HttpResponse<String> tooBig = send("POST", "/v1/branches", "{\"name\": \"" + "x".repeat(70_000) + "\"}");
        assertThat(tooBig.statusCode()).isEqualTo(400);
        assertThat(json(tooBig).path("error").asText()).isEqualTo("request body over 65536 bytes");

        HttpResponse<String> unknown = send("PUT", "/v1/branches", "{}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).path("error").asText()).isEqualTo("no such API endpoint: PUT /v1/branches");
    }

    @Test
    void storageFailuresSayTheirCauseAndAnythingElseIsAnInternalErrorWithoutItsStack() throws Exception {
        HttpResponse<String> full = send("POST", "/v1/gc", "{}");
        assertThat(full.statusCode()).isEqualTo(500);
        assertThat(json(full).path("error").asText()).contains("cannot write /repo/timelines/t/timeline.json", "No space left on device");
        assertThat(json(full).path("hint").asText()).startsWith("the disk is full");

        HttpResponse<String> bug = send("GET", "/v1/operations", null);
        assertThat(bug.statusCode()).isEqualTo(500);
        assertThat(json(bug).path("error").asText()).isEqualTo("internal error: a bug");
        assertThat(json(bug).path("hint").asText()).isEqualTo("see /repo/logs/pageserver.log");
        assertThat(bug.body()).doesNotContain("at dev.zenith");
    }

    @Test
    void callersFromOtherHostsOrPagesAreRefusedBeforeAnythingRuns() throws Exception {
        HttpResponse<String> rebound = http.send(request("POST", "/v1/branches", "{\"name\": \"x\"}")
                .header("Origin", "http://evil.example").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rebound.statusCode()).isEqualTo(403);
        assertThat(json(rebound).path("error").asText()).contains("Origin \"http://evil.example\"");
        HttpResponse<String> crossSite = http.send(request("DELETE", "/v1/branches/main", null)
                .header("Sec-Fetch-Site", "cross-site").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(backend.branches).as("nothing created or deleted").containsOnlyKeys("main");
    }

    @Test
    void statusNamesTheDaemonAndShutdownStopsIt() throws Exception {
        JsonNode status = json(send("GET", "/v1/status", null));
        assertThat(status.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(status.path("api").asText()).isEqualTo("127.0.0.1:" + port);
        assertThat(status.path("superuser").asText()).isEqualTo("ann");
        assertThat(status.path("idleChecks").asLong()).isEqualTo(7);

        HttpResponse<String> stopping = send("POST", "/v1/shutdown", null);
        assertThat(stopping.statusCode()).isEqualTo(200);
        assertThat(shutdown.await(10, TimeUnit.SECONDS)).isTrue();
    }

    private HttpRequest.Builder request(String method, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).header("Authorization", "Bearer " + TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(request(method, path, body).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> response) throws IOException {
        return Json.MAPPER.readTree(response.body());
    }

    /** Branches as names and parents; the refusals the real daemon makes for the cases these tests need. */
    private static final class FakeBackend implements ApiBackend {
        final Map<String, BranchName> branches = new ConcurrentHashMap<>(Map.of("main", BranchName.MAIN));

        @Override
        public void log(BranchName branch, PointInTime since, PointInTime until, java.util.Set<String> tables, Integer limit,
                        java.util.function.Consumer<dev.zenith.model.LogEntry> out) {
            if (!branches.containsKey(branch.value())) {
                throw ZenithException.notFound("branch \"" + branch + "\" does not exist", "zenith branch");
            }
            out.accept(new dev.zenith.model.LogEntry(dev.zenith.model.LogEntry.TRANSACTION, branch.value(), "0/2000100", "0/20000C8",
                    700L, "2026-12-04T10:00:00Z", java.util.List.of(), null, null));
        }

        @Override
        public void bisect(BranchName branch, String query, PointInTime good, PointInTime bad, String expect,
                           java.util.function.Consumer<dev.zenith.model.BisectStep> out) {
            out.accept(new dev.zenith.model.BisectStep(dev.zenith.model.BisectStep.UNCHANGED, "0/2000100", null, "1", 1, 0, null, null, null));
        }

        @Override
        public dev.zenith.model.DataDiff diffData(BranchPoint from, BranchPoint to, java.util.Set<String> tables, int limit) {
            return new dev.zenith.model.DataDiff(from.toString(), to.toString(), true, java.util.List.of());
        }

        @Override
        public BranchCreated createBranch(BranchName name, BranchName parent, PointInTime at, String retention, String expires) {
            branches.put(name.value(), parent);
            return new BranchCreated(name, TimelineId.generate(), parent, Lsn.parse("0/1000000"));
        }

        @Override
        public BranchCreated createSchemaOnlyBranch(BranchName name, BranchName parent, PointInTime at) {
            return createBranch(name, parent, at, null, null);
        }

        @Override
        public BranchCreated createMaskedBranch(BranchName name, BranchName parent, PointInTime at, dev.zenith.MaskRules rules) {
            return createBranch(name, parent, at, null, null);
        }

        @Override
        public BranchDeleted deleteBranch(BranchName name) {
            if (branches.remove(name.value()) == null) {
                throw ZenithException.notFound("branch \"" + name + "\" does not exist", "zenith branch");
            }
            return new BranchDeleted(name, 0, java.util.List.of());
        }

        @Override
        public void renameBranch(BranchName from, BranchName to) {
            if (branches.containsKey(to.value())) {
                throw ZenithException.conflict("branch \"" + to + "\" exists", "choose another name");
            }
            branches.put(to.value(), branches.remove(from.value()));
        }

        @Override
        public ComputeStatus startCompute(String nameOrBranch, String idleTimeout) {
            throw ZenithException.limit("too many computes running: maxComputes is 1", "zenith pg stop one");
        }

        @Override
        public GcResult collectGarbage() {
            throw new UncheckedIOException("cannot write /repo/timelines/t/timeline.json",
                    new FileSystemException("/repo/timelines/t/timeline.json.tmp", null, "No space left on device"));
        }

        @Override
        public dev.zenith.model.ImportResult importDatabase(dev.zenith.compute.Imports.Request request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void stopFollowing(BranchName branch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<OperationInfo> operations() {
            throw new IllegalStateException("a bug");
        }

        @Override
        public List<ComputeStatus> computes() {
            return List.of();
        }

        @Override
        public dev.zenith.model.SpareStatus spares() {
            return new dev.zenith.model.SpareStatus(0, 0, null);
        }

        @Override
        public List<BranchInfo> branches(List<ComputeStatus> computes, DiskUse disk) {
            return List.of();
        }

        @Override
        public List<TagInfo> tags() {
            return List.of();
        }

        @Override
        public List<BranchRemoteState> knownRemoteStates() {
            return List.of();
        }

        @Override
        public BranchReset resetBranch(BranchName name, Backup backup, Optional<TagName> to) {
            throw unexpected();
        }

        @Override
        public void setRetention(BranchName name, String window) {
            throw unexpected();
        }

        @Override
        public Instant expire(BranchName name, String expires) {
            throw unexpected();
        }

        @Override
        public void protect(BranchName name, Protection protection) {
            throw unexpected();
        }

        @Override
        public TagInfo createTag(TagName name, BranchName branch, PointInTime at) {
            throw unexpected();
        }

        @Override
        public TagInfo deleteTag(TagName name) {
            throw unexpected();
        }

        @Override
        public SchemaDiff diff(BranchPoint from, BranchPoint to) {
            throw unexpected();
        }

        @Override
        public ComputeStatus createCompute(BranchName branch, String name, Integer port, String idleTimeout) {
            throw unexpected();
        }

        @Override
        public ComputeStatus startReadOnly(BranchName branch, PointInTime at) {
            throw unexpected();
        }

        @Override
        public ComputeStatus stopCompute(String nameOrBranch, StopMode mode) {
            throw unexpected();
        }

        @Override
        public List<BranchRemoteState> remoteStates(RemoteCredentials given) {
            throw unexpected();
        }

        @Override
        public List<PushSummary> push(String remote, List<BranchName> branchNames, RemoteCredentials given) {
            throw unexpected();
        }

        @Override
        public List<PullSummary> pull(String remote, List<BranchName> branchNames, RemoteCredentials given) {
            throw unexpected();
        }

        private static AssertionError unexpected() {
            return new AssertionError("not called by these tests");
        }
    }
}
