package dev.zenith.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code zenith connstr}, {@code zenith psql} and {@code zenith completion}, used as a user would. */
class ConveniencesTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass().configuredWith(Map.of("spareDiskMb", -1));

    /** Ctrl-C ends the command, not the start: it says so, and how to stop what goes on. */
    @Test
    void anInterruptedPgStartSaysTheStartGoesOnAndHowToStopIt() throws Exception {
        z.cli("branch", "interrupted", "main").ok();
        z.armFailpoint("compute-staged");
        java.nio.file.Path err = z.dir().resolve("interrupted.err");
        Process cli = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), dev.zenith.cli.Main.class.getName(), "--repo", z.repo().toString(),
                "pg", "start", "interrupted").redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            z.awaitFailpoint("compute-staged");
            cli.destroy(); // SIGTERM, which runs the same shutdown as Ctrl-C's SIGINT
            assertThat(cli.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        } finally {
            cli.destroyForcibly();
            z.releaseFailpoints();
        }
        assertThat(java.nio.file.Files.readString(err)).contains("zenith: interrupted; the pageserver goes on starting interrupted")
                .contains("zenith pg stop interrupted stops it");
        Zenith.waitFor(java.time.Duration.ofSeconds(120), () -> z.cli("pg", "list").out().matches("(?s).*interrupted\\s+\\S+\\s+running.*"),
                "the start to go on as the notice said");
        z.cli("pg", "stop", "interrupted").ok();
    }

    @Test
    void connstrPrintsStringsThatReachTheBranch() throws Exception {
        z.cli("branch", "conn", "main").ok();
        try (Connection c = z.connectProxy("conn"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE only_on_conn (x int)");
        }
        String all = z.cli("connstr", "conn").ok().out();
        assertThat(all).contains("psql:").contains("JDBC:").contains("node-postgres:")
                .contains("options: '-c branch=conn'").contains("port: " + z.proxyPort());

        String jdbc = z.cli("connstr", "conn", "--format", "jdbc").ok().out().strip();
        try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 'only_on_conn'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
        if (Psql.installed()) {
            String uri = z.cli("connstr", "conn", "--format", "uri").ok().out().strip();
            Psql.Result r = Psql.run(uri, Map.of(), "SELECT count(*) FROM only_on_conn");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out().strip()).isEqualTo("0");
        }
        assertThat(z.cli("connstr", "conn", "--json").ok().out()).contains("\"jdbc\"").contains("\"node\"");

        Zenith.Result missing = z.cli("connstr", "nosuch");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("branch \"nosuch\" does not exist");
        assertThat(z.cli("connstr", "conn", "--format", "odbc").exit()).isEqualTo(2);
        assertThat(z.cli("connstr", "../x").exit()).isEqualTo(2);
    }

    @Test
    void psqlRunsOnTheBranchThroughTheProxy() throws Exception {
        Psql.assumeInstalled();
        z.cli("branch", "viapsql", "main").ok();
        Zenith.Result r = z.cliProcess(Map.of(), "psql", "viapsql", "--", "-qtA", "-c",
                "CREATE TABLE made_by_psql (x int); INSERT INTO made_by_psql VALUES (42); SELECT x FROM made_by_psql");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("42");
        try (Connection c = z.connectProxy("viapsql"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT x FROM made_by_psql")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
        // no branch before --: main, and every argument psql's
        Zenith.Result onMain = z.cliProcess(Map.of(), "psql", "--", "-qtA", "-c", "SELECT 'on-main'");
        assertThat(onMain.exit()).as(onMain.err()).isZero();
        assertThat(onMain.out().strip()).isEqualTo("on-main");
        // psql's own failure is the command's exit code
        assertThat(z.cliProcess(Map.of(), "psql", "viapsql", "--", "-c", "SELECT * FROM nosuch_table").exit()).isNotZero();
    }

    @Test
    void psqlMissingSaysHowToInstallIt() throws Exception {
        Zenith.Result r = z.cliProcess(Map.of("PATH", "/nonexistent"), "psql", "main");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("psql is not installed").contains("apt-get install postgresql-client")
                .contains("zenith connstr main");
    }

    @Test
    void bashCompletionCompletesCommandsAndOptions() throws Exception {
        String script = z.cli("completion", "bash").ok().out();
        Path file = z.dir().resolve("zenith-completion.bash");
        Files.writeString(file, script);
        assertThat(complete(file, "zenith", "co")).contains("connstr", "completion");
        assertThat(complete(file, "zenith", "pg", "l")).contains("list", "logs");
        assertThat(complete(file, "zenith", "pageserver", "logs", "--f")).contains("--follow");

        String zsh = z.cli("completion", "zsh").ok().out();
        assertThat(zsh).startsWith("autoload -U +X compinit && compinit").contains("bashcompinit").contains(script);
        assertThat(z.cli("completion", "fish").exit()).isEqualTo(2);
    }

    /** What bash offers for the last word, running the generated completion function as bash would on Tab. */
    private static String complete(Path script, String... words) throws Exception {
        String array = String.join(" ", java.util.Arrays.stream(words).map(w -> "'" + w + "'").toList());
        // compopt only works inside a completion bash itself started: a no-op stands in for it here
        String bash = "source '" + script + "'; compopt() { :; }; COMP_WORDS=(" + array + "); COMP_CWORD=" + (words.length - 1)
                + "; COMP_LINE='" + String.join(" ", words) + "'; COMP_POINT=${#COMP_LINE}; _complete_zenith;"
                + " echo \"${COMPREPLY[*]}\"";
        Process p = new ProcessBuilder("bash", "-c", bash).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isZero();
        return out;
    }
}
