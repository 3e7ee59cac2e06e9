package dev.zenith.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** ARCHITECTURE.md invariants 7 (one read-write compute per branch) and 8 (Postgres never runs as root). */
class ComputeSafetyTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    @Test
    void racingStartsOfOneBranchMakeOnePostgres() throws Exception {
        z.cli("branch", "racy", "main").ok();
        Set<Integer> exits = ConcurrentHashMap.newKeySet();
        Set<String> errors = ConcurrentHashMap.newKeySet();
        assertThat(Race.run(8, i -> {
            Zenith.Result r = z.cli("pg", "start", "racy");
            exits.add(r.exit());
            errors.add(r.err());
        })).isEmpty();
        assertThat(exits).as("exit codes; errors: %s", errors).containsExactly(0);
        var racyNodes = z.computesOf("racy");
        assertThat(racyNodes).as("nodes of branch racy").hasSize(1);
        String dataDir = z.repo().resolve("pgdatadirs").resolve(racyNodes.get(0).path("name").asText()).toString();
        long postmasters = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().orElse("").endsWith("-D " + dataDir))
                .filter(h -> h.parent().map(p -> !p.info().command().orElse("").endsWith("postgres")).orElse(true))
                .count();
        assertThat(postmasters).isEqualTo(1);
        assertThat(z.queryLong(z.port("racy"), "SELECT 1")).isEqualTo(1);

        Zenith.Result second = z.cli("pg", "create", "racy", "--name", "other");
        assertThat(second.exit()).isEqualTo(1);
        assertThat(second.err()).contains("already has compute node").contains("at most one read-write compute");
    }

    @Test
    void postgresNeverRunsAsRoot() throws Exception {
        z.start("main");
        long pid = z.postmasterPid(z.compute("main").orElseThrow().path("name").asText()).orElseThrow();
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
        assertThat(uid).isNotEqualTo("0");
        assertThat(ProcessHandle.of(pid).orElseThrow().descendants()
                .map(h -> h.info().user().orElse("?"))).doesNotContain("root");
    }

    @Test
    void aRepositoryThePostgresUserCannotReachIsRefused() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "only root hands Postgres to another user");
        Zenith hidden = Zenith.empty();
        try {
            Path locked = hidden.dir().resolve("private");
            Files.createDirectories(locked);
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
            Path repo = locked.resolve(".zenith");
            var cmd = dev.zenith.cli.Main.commandLine();
            var err = new java.io.StringWriter();
            cmd.setErr(new java.io.PrintWriter(err, true));
            cmd.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
            int exit = cmd.execute("--repo", repo.toString(), "init", "--api-port", "1");
            assertThat(exit).as("the machine refused, not the command line").isEqualTo(1);
            assertThat(err.toString()).contains("nobody cannot enter " + locked).contains("chmod o+x " + locked);
            assertThat(repo).doesNotExist();
        } finally {
            hidden.close();
        }
    }

    @Test
    void unknownOsUserIsRefused() {
        assumeTrue("root".equals(System.getProperty("user.name")), "only root hands Postgres to another user");
        Zenith other = Zenith.empty();
        try {
            Zenith.Result r = other.init("--os-user", "no_such_user_zz");
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("OS user \"no_such_user_zz\" does not exist");
            assertThat(other.repo()).doesNotExist();
        } finally {
            other.close();
        }
    }
}
