package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README as a test: every {@code $ } line of its sections from "Install without a JDK" to "The manual
 * workflow", run in order as one user's session would run them: the tarball installed under a fresh home
 * with no Java on the PATH, then one project directory (a git repository). A command must exit 0, or the
 * code its comment names ({@code # exit 1}); the lines shown under it must appear in its output, in order.
 *
 * <p>What only exists in the README's world stands for the real thing here: ports 5432, 55432 and 64000 are
 * free ones (and the first {@code zenith init} gets them), LSN 0/16B5A50 is main's end, the time
 * 2026-11-24T10:15:00Z and the relative times -5m and -10m a second ago; in the lines shown, LSNs, timeline
 * ids, times, transaction ids, bisect's probe count, backup names' stamps, pids, users and diff hunk positions match any value.
 */
class ReadmeIT {

    private static final Pattern EXIT = Pattern.compile("#\\s*exit (\\d+)");

    /** One {@code $ } line and the lines the README shows under it. */
    private record Step(String command, List<String> shown) {
    }

    @Test
    void theReadmesCommandsRunAsWritten() throws Exception {
        if (System.getenv("CI") == null) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")) && Files.isExecutable(Path.of("/usr/bin/git")),
                    "the README's examples use psql and git (apt-get install postgresql-client git)");
        }
        Path clone = Path.of("").toAbsolutePath().getParent();
        List<Step> steps = steps(Files.readString(clone.resolve("README.md")));
        assertThat(steps).as("the README's examples").hasSizeGreaterThan(30);

        Path home = Files.createTempDirectory(Path.of("/tmp"), "zreadme");
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path project = Files.createDirectory(home.resolve("project"));
        Map<String, String> ports = Map.of("5432", Integer.toString(Zenith.freePort()), "55432", Integer.toString(Zenith.freePort()),
                "64000", Integer.toString(Zenith.freePort()));
        String listen = " --api-port " + ports.get("64000") + " --proxy-port " + ports.get("5432")
                + " --compute-port-base " + (20000 + (int) (Math.random() * 12000)); // sockets where psql looks, as a user's
        try {
            run(home, project, "git init -q && git config user.email you@example.com && git config user.name you"
                    + " && git commit -q --allow-empty -m start", 0);
            boolean initialized = false;
            for (Step step : steps) {
                String command = step.command().replace("core/target/", clone.resolve("core/target") + "/");
                for (Map.Entry<String, String> port : ports.entrySet()) {
                    command = command.replaceAll("\\b" + port.getKey() + "\\b", port.getValue());
                }
                if (!initialized && command.matches("zenith init\\b.*")) {
                    command = command.replaceFirst("zenith init", "zenith init" + listen);
                    initialized = true;
                }
                String aSecondAgo = Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.SECONDS).toString();
                command = command.replace("2026-11-24T10:15:00Z", aSecondAgo).replaceAll("--at -(5|10)m\\b", "--at -1s");
                if (command.contains("0/16B5A50")) {
                    command = command.replace("0/16B5A50", mainsEnd(home, project));
                }
                Matcher exit = EXIT.matcher(command);
                String output = run(home, project, command, exit.find() ? Integer.parseInt(exit.group(1)) : 0);
                assertShown(step, output, ports);
            }
        } finally {
            run(home, project, "zenith pageserver stop || true", 0);
            FileTrees.deleteTree(home);
        }
    }

    /** The {@code $ } lines of the sections a user follows from installing to the manual workflow. */
    static List<Step> steps(String readme) {
        String part = readme.substring(readme.indexOf("\n## Install without a JDK"), readme.indexOf("\n## Commands"));
        List<Step> steps = new ArrayList<>();
        String fence = null; // what opened the block we are in; a block in a language (```js) is code to read, not a session
        for (String line : part.lines().toList()) {
            boolean session = "```".equals(fence);
            if (line.startsWith("```")) {
                fence = fence == null ? line : null;
            } else if (session && line.startsWith("$ ")) {
                steps.add(new Step(line.substring(2), new ArrayList<>()));
            } else if (session && !steps.isEmpty() && !line.isBlank() && !line.endsWith("=#")) {
                steps.get(steps.size() - 1).shown().add(line);
            }
        }
        return steps;
    }

    /** Each shown line, loosely, in the output, in order. */
    private static void assertShown(Step step, String output, Map<String, String> ports) {
        List<String> lines = output.lines().map(String::strip).toList();
        int from = 0;
        for (String shown : step.shown()) {
            String line = shown.strip();
            for (Map.Entry<String, String> port : ports.entrySet()) {
                line = line.replaceAll("\\b" + port.getKey() + "\\b", port.getValue());
            }
            Pattern loose = Pattern.compile(loosely(line));
            int at = -1;
            for (int i = from; i < lines.size() && at < 0; i++) {
                if (loose.matcher(lines.get(i)).matches()) {
                    at = i;
                }
            }
            assertThat(at).as("$ %s%nshows \"%s\", not in its output:%n%s", step.command(), shown, output).isNotNegative();
            from = at + 1;
        }
    }

    /** A shown line as a pattern in which the values that differ from run to run match any value. */
    static String loosely(String line) {
        String[][] wild = {
                {"@@ -\\d+,\\d+ \\+\\d+,\\d+ @@", "@@ -\\d+,\\d+ \\+\\d+,\\d+ @@"},
                {"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z", "\\S+"},
                {"\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [+-]\\d\\d:\\d\\d", "\\S+ \\S+ \\S+"},
                {"xid \\d+", "xid \\d+"},
                {"\\(\\d+ probes\\)", "\\(\\d+ probes\\)"},
                {"_old_\\d{14}", "_old_\\d{14}"},
                {"\\b[0-9a-f]{32}\\b", "[0-9a-f]{32}"},
                {"\\b[0-9A-F]{1,8}/[0-9A-F]{1,8}\\b", "[0-9A-F]+/[0-9A-F]+"},
                {"user=you", "user=\\S+"},
                {"pgdatadirs/pg\\d+", "pgdatadirs/pg\\d+"},
                {"\\bport=\\d+", "port=\\d+"},
        };
        StringBuilder pattern = new StringBuilder();
        int i = 0;
        outer:
        while (i < line.length()) {
            for (String[] w : wild) {
                Matcher m = Pattern.compile(w[0]).matcher(line).region(i, line.length());
                if (m.lookingAt()) {
                    pattern.append(w[1]);
                    i = m.end();
                    continue outer;
                }
            }
            pattern.append(Pattern.quote(String.valueOf(line.charAt(i))));
            i++;
        }
        return pattern.toString();
    }

    private static String mainsEnd(Path home, Path project) throws Exception {
        JsonNode branches = Json.MAPPER.readTree(run(home, project, "zenith branch --json", 0));
        for (JsonNode b : branches) {
            if (b.path("name").asText().equals("main")) {
                return b.path("lastLsn").asText();
            }
        }
        throw new AssertionError("no main in " + branches);
    }

    /** Runs a line with bash as the README's user: their home, no Java on the PATH; returns what it printed. */
    private static String run(Path home, Path project, String command, int expectedExit) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(project.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().put("HOME", home.toString());
        builder.environment().put("PATH", home.resolve(".local/bin") + ":/usr/bin:/bin");
        builder.environment().put("JAVA_HOME", "/nonexistent");
        builder.environment().remove("ZENITH_REPO_DIR");
        Zenith.Result r = Zenith.run(builder, Duration.ofSeconds(300));
        assertThat(r.exit()).as("$ %s%n%s", command, r.out()).isEqualTo(expectedExit);
        return r.out();
    }
}
