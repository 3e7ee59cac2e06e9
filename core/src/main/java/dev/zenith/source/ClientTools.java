package dev.zenith.source;

import dev.zenith.ZenithException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The PostgreSQL client tools of the user's system that an import drives ({@code psql}, {@code pg_dump},
 * {@code pg_restore}, {@code pg_basebackup}, {@code pg_receivewal}): zenith's own binaries are servers only. A dump or base
 * backup needs tools at least as new as the server they read, so the newest installation found is
 * taken: {@code $ZENITH_PG_TOOLS} when set, else the places packagers put them (Debian's and Ubuntu's
 * {@code /usr/lib/postgresql/N/bin}, the PGDG RPMs' {@code /usr/pgsql-N/bin}, Homebrew's libpq), else
 * the {@code PATH}.
 */
public record ClientTools(Path bin, int major) {

    /** Where the tools' directory may be given explicitly. */
    public static final String ENV = "ZENITH_PG_TOOLS";

    private static final List<String> NEEDED = List.of("psql", "pg_dump", "pg_restore", "pg_basebackup", "pg_receivewal");
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

    public Path tool(String name) {
        return bin.resolve(name);
    }

    /**
     * The newest installation on this machine, looked for with the caller's {@code $ZENITH_PG_TOOLS} and
     * {@code $PATH} from {@code env}; refused, with how to install one, when there is none.
     */
    public static ClientTools newest(Map<String, String> env) {
        String explicit = env.get(ENV);
        return installations(explicit, env.get("PATH")).stream().max(Comparator.comparingInt(ClientTools::major))
                .orElseThrow(() -> ZenithException.failed("importing needs the PostgreSQL client tools ("
                        + String.join(", ", NEEDED) + "), and none were found"
                        + (explicit != null ? " in $" + ENV + " = " + explicit : " on this machine"),
                        installHint(0)));
    }

    /** Refuses these tools when they are older than a server of {@code serverMajor}, which they cannot read. */
    public ClientTools requireAtLeast(int serverMajor, String what) {
        if (major < serverMajor) {
            throw ZenithException.failed(what + " is PostgreSQL " + serverMajor + ", and the newest client tools here are "
                    + major + " (" + bin + "), which cannot read it", installHint(serverMajor));
        }
        return this;
    }

    /** The command that installs client tools of {@code major} (0: any) on this kind of system. */
    static String installHint(int major) {
        String version = major == 0 ? "" : "-" + major;
        if (Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            return "install them with: sudo apt-get install postgresql-client" + version
                    + (major == 0 ? "" : " (from apt.postgresql.org when your release has no " + major + ")")
                    + ", or name their directory in $" + ENV;
        }
        if (Files.isExecutable(Path.of("/usr/bin/dnf"))) {
            return "install them with: sudo dnf install postgresql" + (major == 0 ? "" : major)
                    + ", or name their directory in $" + ENV;
        }
        if (Files.isExecutable(Path.of("/opt/homebrew/bin/brew")) || Files.isExecutable(Path.of("/usr/local/bin/brew"))) {
            return "install them with: brew install libpq" + (major == 0 ? "" : " (or postgresql@" + major + ")")
                    + ", or name their directory in $" + ENV;
        }
        return "install the PostgreSQL client tools" + (major == 0 ? "" : " of version " + major + " or newer")
                + " and name their bin directory in $" + ENV;
    }

    private static List<ClientTools> installations(String explicit, String path) {
        Set<Path> dirs = new LinkedHashSet<>();
        if (explicit != null && !explicit.isBlank()) {
            dirs.add(Path.of(explicit));
        } else {
            dirs.addAll(children(Path.of("/usr/lib/postgresql"), "bin"));
            dirs.addAll(children(Path.of("/usr"), "pgsql-", "bin"));
            dirs.add(Path.of("/opt/homebrew/opt/libpq/bin"));
            dirs.add(Path.of("/usr/local/opt/libpq/bin"));
            if (path != null) {
                for (String d : path.split(java.io.File.pathSeparator)) {
                    if (!d.isBlank()) {
                        dirs.add(Path.of(d));
                    }
                }
            }
        }
        List<ClientTools> found = new ArrayList<>();
        for (Path dir : dirs) {
            if (NEEDED.stream().allMatch(t -> Files.isExecutable(dir.resolve(t)))) {
                version(dir).ifPresent(major -> found.add(new ClientTools(dir, major)));
            }
        }
        return found;
    }

    private static List<Path> children(Path parent, String sub) {
        return children(parent, "", sub);
    }

    private static List<Path> children(Path parent, String prefix, String sub) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(parent)) {
            return list.filter(p -> p.getFileName().toString().startsWith(prefix)).map(p -> p.resolve(sub))
                    .filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The major version {@code pg_dump --version} says; empty when it does not run. */
    private static Optional<Integer> version(Path dir) {
        try {
            Process p = new ProcessBuilder(dir.resolve("pg_dump").toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.empty();
            }
            Matcher m = VERSION.matcher(out);
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
