package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** The seed's "How it works now" transcript, as a new user types it, and the errors around it. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SeedWorkflowTest {

    @RegisterExtension
    static final Zenith z = Zenith.empty();

    @Test
    @Order(1)
    void commandsBeforeInitSayToRunInit() {
        Zenith.Result r = z.cli("branch");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no repository in " + z.repo()).contains("run zenith init");
    }

    @Test
    @Order(2)
    void initCreatesMainBranch() {
        Zenith.Result r = z.init().ok();
        assertThat(r.out()).contains("created main branch").contains("new zenith repository was created in");
        assertThat(z.repository().branches().all()).containsOnlyKeys(dev.zenith.BranchName.MAIN);
    }

    @Test
    @Order(3)
    void secondInitIsRefusedAndChangesNothing() throws Exception {
        String before = java.nio.file.Files.readString(z.repo().resolve("branches.json"));
        Zenith.Result r = z.init();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("a zenith repository already exists");
        assertThat(java.nio.file.Files.readString(z.repo().resolve("branches.json"))).isEqualTo(before);
    }

    @Test
    @Order(4)
    void commandsNeedingTheDaemonSaySoWhenItIsDown() {
        Zenith.Result r = z.cli("branch", "heikki", "main");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("pageserver is not running: run zenith pageserver start");
        assertThat(z.cli("pageserver", "status").exit()).isEqualTo(3);
    }

    @Test
    @Order(5)
    void pageserverStartsOnceInTheBackground() {
        Zenith.Result r = z.cli("pageserver", "start").ok();
        assertThat(r.out()).contains("Starting pageserver at '127.0.0.1:" + z.apiPort() + "' in ")
                .contains("Page server started");
        assertThat(z.daemonPid()).isPresent().get().isNotEqualTo(ProcessHandle.current().pid());
        Zenith.Result again = z.cli("pageserver", "start").ok();
        assertThat(again.out()).contains("already running");
        assertThat(z.cli("pageserver", "status").ok().out()).contains("pageserver is running");
    }

    @Test
    @Order(6)
    void branchPrintsItsLsn() {
        Zenith.Result r = z.cli("branch", "heikki", "main").ok();
        assertThat(r.out()).matches("branching at end of WAL: [0-9A-F]+/[0-9A-F]+\\s*");
    }

    @Test
    @Order(7)
    void pgCreateAndStartAsTheSeedShows() throws Exception {
        Zenith.Result create = z.cli("pg", "create", "heikki").ok();
        String timeline = z.repository().branches().get(new dev.zenith.BranchName("heikki")).orElseThrow().value();
        assertThat(create.out()).contains("Initializing Postgres on timeline " + timeline + "...")
                .containsPattern("Extracting base backup to create postgres instance: path=\\S*pgdatadirs/pg1 port=\\d+");
        assertThat(z.cli("pg", "list").ok().out()).as("made, never started").containsPattern("pg1\\s+127.0.0.1:\\d+\\s+heikki\\s+\\S+\\s+new");
        Zenith.Result start = z.cli("pg", "start", "pg1").ok();
        assertThat(start.out()).containsPattern("Starting postgres node at 'host=127.0.0.1 port=\\d+ user=\\S+'")
                .contains("server started");
        assertThat(z.queryLong(z.port("pg1"), "SELECT 1")).isEqualTo(1);
    }

    @Test
    @Order(8)
    void pgStartOnABranchWithoutNodeCreatesOne() throws Exception {
        Zenith.Result r = z.cli("pg", "start", "main").ok();
        assertThat(r.out()).contains("Extracting base backup").contains("server started");
        assertThat(z.queryLong(z.port("main"), "SELECT count(*) FROM pg_database")).isPositive();
    }

    @Test
    @Order(9)
    void listsShowNodesAndTree() throws Exception {
        String list = z.cli("pg", "list").ok().out();
        assertThat(list).contains("NODE").contains("ADDRESS").contains("BRANCH").contains("LSN").contains("STATUS");
        assertThat(list).containsPattern("pg1\\s+127.0.0.1:\\d+\\s+heikki\\s+\\S+/\\S+\\s+running");
        JsonNode nodes = Json.MAPPER.readTree(z.cli("pg", "list", "--json").ok().out());
        assertThat(nodes.size()).isEqualTo(2);

        String tree = z.cli("branch").ok().out();
        assertThat(tree).startsWith("main [").containsPattern("┗━ @[0-9A-F]+/[0-9A-F]+: heikki \\[")
                .containsPattern("heikki \\[[0-9a-f]{32}\\]  last [0-9A-F]+/[0-9A-F]+  compute pg1 running  disk [0-9.]+ MiB");
        JsonNode branches = Json.MAPPER.readTree(z.cli("branch", "--json").ok().out());
        assertThat(branches.findValuesAsText("name")).containsExactlyInAnyOrder("main", "heikki");
        for (JsonNode b : branches) {
            assertThat(b.get("computeState").asText()).isEqualTo("running");
            assertThat(b.get("storageBytes").asLong() + b.get("dataDirBytes").asLong()).isGreaterThan(1 << 20);
        }

        String status = z.cli("status").ok().out();
        assertThat(status).contains("pageserver:  running").contains("computes:    2 running");
    }

    @Test
    @Order(10)
    void badInputGetsClearErrors() {
        Zenith.Result exists = z.cli("branch", "heikki", "main");
        assertThat(exists.exit()).isEqualTo(1);
        assertThat(exists.err()).contains("branch \"heikki\" already exists");

        Zenith.Result noParent = z.cli("branch", "x", "nosuch");
        assertThat(noParent.exit()).isEqualTo(1);
        assertThat(noParent.err()).contains("branch \"nosuch\" does not exist");

        Zenith.Result badName = z.cli("branch", "../etc", "main");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err()).contains("invalid branch name \"../etc\"");

        Zenith.Result twoNodes = z.cli("pg", "create", "heikki");
        assertThat(twoNodes.exit()).isEqualTo(1);
        assertThat(twoNodes.err()).contains("already has compute node pg1");

        Zenith.Result noNode = z.cli("pg", "stop", "pg9");
        assertThat(noNode.exit()).isEqualTo(1);
        assertThat(noNode.err()).contains("compute node \"pg9\" does not exist");

        Zenith.Result usage = z.cli("pg", "create");
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("Missing required parameter");

        assertThat(z.cli("branch", "--json").ok().out()).doesNotContain("\"x\"");
    }

    @Test
    @Order(11)
    void everyCommandHasHelp() {
        String[][] commands = {{}, {"init"}, {"start"}, {"pageserver"}, {"pageserver", "start"}, {"pageserver", "stop"},
                {"pageserver", "status"}, {"branch"}, {"pg"}, {"pg", "create"}, {"pg", "start"}, {"pg", "stop"},
                {"pg", "list"}, {"status"}};
        for (String[] c : commands) {
            String[] args = java.util.Arrays.copyOf(c, c.length + 1);
            args[c.length] = "--help";
            Zenith.Result r = z.cli(args).ok();
            assertThat(r.out()).as("help of %s", String.join(" ", c)).contains("Usage: zenith");
        }
    }

    @Test
    @Order(12)
    void pageserverStopStopsComputesCleanly() {
        long pg1 = z.postmasterPid("pg1").orElseThrow();
        Zenith.Result r = z.cli("pageserver", "stop").ok();
        assertThat(r.out()).contains("Page server stopped");
        assertThat(z.daemonPid()).isEmpty();
        Zenith.waitFor(java.time.Duration.ofSeconds(30),
                () -> !ProcessHandle.of(pg1).map(ProcessHandle::isAlive).orElse(false), "pg1's postmaster to exit");
        assertThat(z.repository().timeline(z.repository().branches().get(new dev.zenith.BranchName("heikki"))
                .orElseThrow()).wal().partial()).as("open segment captured at the clean stop").isNotEmpty();
        assertThat(z.cli("pageserver", "stop").ok().out()).contains("pageserver is not running");
    }
}
