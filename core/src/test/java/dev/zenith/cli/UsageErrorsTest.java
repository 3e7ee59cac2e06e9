package dev.zenith.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** A command line that does not parse gets one clear line, a suggestion, where the help is, and exit 2: never Java. */
class UsageErrorsTest {

    private record Run(int exit, String err) {
    }

    private record Output(int exit, String out, String err) {
    }

    /** Runs {@code args} as {@code zenith} does: with the model of only the command they name. */
    private static Output output(String... args) {
        CommandLine cmd = Main.commandLine(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Output(exit, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        Output o = output(args);
        return new Run(o.exit(), o.err());
    }

    @Test
    void theCommandsThatNameEveryOtherStillSeeThemAll() {
        Output help = output("help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("  import ").contains("  branch ").contains("  completion ");
        assertThat(output("--repo", "/nonexistent/zenith", "help", "import").out()).contains("Usage: zenith import");
        assertThat(output("completion", "bash").out()).contains("import").contains("branch").contains("tag");
        assertThat(run("--repo", "/nonexistent/zenith", "imprt").err()).contains("Did you mean: zenith import");
        assertThat(run("--repo=/nonexistent/zenith", "import", "--bogus").err()).startsWith("zenith: Unknown option: '--bogus'")
                .contains("see: zenith import --help");
    }

    @Test
    void anInvalidNameSaysWhatANameIsInOneLine() {
        Run r = run("--repo", "/nonexistent/zenith", "branch", "my branch", "main");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("zenith: invalid branch name \"my branch\": use 1 to 63 letters, digits, '_' or '-',"
                + " starting with a letter or digit\nsee: zenith branch --help\n");
        Run tag = run("--repo", "/nonexistent/zenith", "tag", "bad tag", "main");
        assertThat(tag.exit()).isEqualTo(2);
        assertThat(tag.err()).startsWith("zenith: invalid tag name \"bad tag\"").doesNotContain("java.").doesNotContain("Usage:");
    }

    @Test
    void startRefusesInitsOptionsForAnExistingRepositoryInsteadOfIgnoringThem(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path repo = java.nio.file.Files.createDirectories(dir.resolve(".zenith"));
        java.nio.file.Files.writeString(repo.resolve("config.json"), "{}");
        Run r = run("--repo", repo.toString(), "start", "--proxy-port", "6543");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("exists, and --proxy-port only applies when zenith start makes one")
                .contains("zenith pageserver start --proxy-port N");
    }

    @Test
    void aBadDurationIsRefusedBeforeAnythingStarts() {
        Run r = run("--repo", "/nonexistent/zenith", "pg", "start", "main", "--idle-timeout", "5x");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("zenith: invalid idle timeout \"5x\"").doesNotContain("no repository");
    }

    @Test
    void aMistypedSubcommandIsNotTakenForABranchName() {
        Run r = run("--repo", "/nonexistent/zenith", "branch", "delte", "x");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("zenith: \"delte\" looks like a mistyped subcommand: did you mean zenith branch delete x?"
                + " (zenith branch create delte x makes one of that name)\nsee: zenith branch --help\n");
        assertThat(run("--repo", "/nonexistent/zenith", "branch", "renmae", "a").err()).contains("did you mean zenith branch rename a?");
        assertThat(run("--repo", "/nonexistent/zenith", "tag", "delet", "v1").err()).contains("did you mean zenith tag delete v1?");
        // names a step further from every subcommand are names: the command goes on (and finds no repository)
        for (String name : new String[] {"test", "feature", "main", "restore", "deleted-rows"}) {
            assertThat(run("--repo", "/nonexistent/zenith", "branch", name, "main").err()).as(name).contains("no repository");
        }
    }

    @Test
    void theTopLevelHelpListsEachCommandInAWholeSentence() {
        CommandLine cmd = Main.commandLine();
        StringWriter out = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        assertThat(cmd.execute("--help")).isZero();
        String commands = out.toString().substring(out.toString().indexOf("Commands:") + "Commands:".length());
        // an entry is a line with a name, then the lines indented further that continue it
        for (String entry : commands.strip().split("\n(?=  \\S)")) {
            assertThat(entry.replaceAll("\\s+", " ").strip()).as("cut mid-sentence").endsWith(".");
        }
    }

    @Test
    void editDistanceCountsASwapAsOneEdit() {
        assertThat(Typos.distance("delete", "delte")).isEqualTo(1);
        assertThat(Typos.distance("rename", "renmae")).isEqualTo(1);
        assertThat(Typos.distance("reset", "test")).isEqualTo(2);
        assertThat(Typos.distance("", "abc")).isEqualTo(3);
    }

    @Test
    void aMistypedCommandGetsASuggestionNotTheWholeUsage() {
        Run r = run("--repo", "/nonexistent/zenith", "pg", "strat", "main");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Did you mean: pg stop or pg start").contains("see: zenith pg --help")
                .doesNotContain("Usage:");
        Run option = run("--repo", "/nonexistent/zenith", "branch", "x", "main", "--bogus");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err()).startsWith("zenith: Unknown option: '--bogus'");
    }
}
