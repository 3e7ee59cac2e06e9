package dev.zenith.source;

import dev.zenith.ZenithException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Restores a dump into a server zenith runs for itself, with the user's client tools: pg_restore for
 * pg_dump's archives (custom, directory, tar), psql for plain SQL. The roles the dump's objects belong
 * to are made first, since a dump of one database does not carry them.
 */
public final class DumpRestore {

    private static final Pattern DBNAME = Pattern.compile("^;\\s+dbname:\\s+(.+)$", Pattern.MULTILINE | Pattern.CASE_INSENSITIVE);
    private static final Pattern OWNER = Pattern.compile("OWNER TO ([^;]+);");
    private static final Pattern GRANTEE = Pattern.compile("^(?:GRANT|REVOKE) .* (?:TO|FROM) ([^;]+);");
    private static final Set<String> NOT_ROLES = Set.of("PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE");

    private final ClientRun run;

    /** {@code run}'s tools talk to the local server only: it is given no caller environment. */
    public DumpRestore(ClientRun run) {
        this.run = run;
    }

    /** The database a pg_dump archive was made of, from its table of contents; empty for plain SQL. */
    public Optional<String> databaseOf(Source.Dump dump) {
        if (!dump.format().isArchive()) {
            return Optional.empty();
        }
        Matcher m = DBNAME.matcher(run.output("pg_restore", List.of("--list", dump.path().toString()),
                "reading the table of contents of " + dump.path()));
        return m.find() ? Optional.of(m.group(1).strip()) : Optional.empty();
    }

    /** The roles a dump's objects are owned by or granted to, as the dump's SQL names them. */
    public Set<String> roles(Source.Dump dump) {
        Set<String> roles = new TreeSet<>();
        try (BufferedReader sql = dump.format().isArchive()
                ? new BufferedReader(new StringReader(run.output("pg_restore", List.of("--schema-only", "-f", "-",
                        dump.path().toString()), "reading the definitions in " + dump.path())))
                : Files.newBufferedReader(dump.path(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = sql.readLine()) != null) {
                collect(OWNER.matcher(line), roles);
                collect(GRANTEE.matcher(line), roles);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dump.path(), e);
        }
        return roles;
    }

    private static void collect(Matcher m, Set<String> roles) {
        if (!m.find()) {
            return;
        }
        for (String name : m.group(1).replace(" WITH GRANT OPTION", "").split(",")) {
            String n = name.strip();
            if (n.startsWith("\"") && n.endsWith("\"") && n.length() > 1) {
                roles.add(n.substring(1, n.length() - 1).replace("\"\"", "\""));
            } else if (!n.isEmpty() && !NOT_ROLES.contains(n.toUpperCase(java.util.Locale.ROOT))) {
                roles.add(n);
            }
        }
    }

    /**
     * Makes the roles that are missing (as LOGIN roles without a password: the laptop's computes trust or
     * use zenith's password) and the database, unless it exists, on the server {@code admin} reaches.
     */
    public void prepare(String admin, Set<String> roles, String database) {
        Set<String> existing = new TreeSet<>(run.output("psql", List.of("-X", "-w", "-A", "-t", "-d", admin, "-c",
                "SELECT rolname FROM pg_roles"), "listing the roles").lines().map(String::strip).toList());
        StringBuilder sql = new StringBuilder();
        for (String role : roles) {
            if (!existing.contains(role)) {
                sql.append("CREATE ROLE ").append(identifier(role)).append(" LOGIN;\n");
            }
        }
        String exists = run.output("psql", List.of("-X", "-w", "-A", "-t", "-d", admin, "-c",
                "SELECT count(*) FROM pg_database WHERE datname = " + literal(database)), "looking for the database").strip();
        if (exists.equals("0")) {
            sql.append("CREATE DATABASE ").append(identifier(database)).append(" TEMPLATE template0 ENCODING 'UTF8';\n");
        }
        if (!sql.isEmpty()) {
            for (String statement : sql.toString().split("\n")) {
                run.run("psql", List.of("-X", "-w", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", statement), "preparing the branch");
            }
        }
    }

    /** Restores {@code dump} into the database {@code target} names, stopping at the first error. */
    public void restore(Source.Dump dump, String target, int jobs) {
        if (dump.format().isArchive()) {
            List<String> args = new ArrayList<>(List.of("-d", target, "--exit-on-error", "--no-password"));
            if (dump.format() != Source.DumpFormat.TAR) {
                args.addAll(List.of("-j", Integer.toString(jobs)));
            }
            args.add(dump.path().toString());
            run.run("pg_restore", args, "restoring " + dump.path());
            return;
        }
        long before = logSize();
        // a plain dump of pg_dumpall recreates roles and databases that are there already: those errors are
        // expected, any other one is not
        run.run("psql", List.of("-X", "-w", "-q", "-d", target, "-f", dump.path().toString()), "restoring " + dump.path());
        List<String> errors = errorsSince(before);
        if (!errors.isEmpty()) {
            throw ZenithException.failed("restoring " + dump.path() + " failed: " + errors.getFirst()
                    + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more errors)" : ""), "see " + run.log());
        }
    }

    private long logSize() {
        try {
            return Files.exists(run.log()) ? Files.size(run.log()) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private List<String> errorsSince(long offset) {
        try {
            byte[] all = Files.readAllBytes(run.log());
            String added = new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                    StandardCharsets.UTF_8);
            return added.lines().filter(l -> l.contains("ERROR:") && !l.contains("already exists")).map(String::strip).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + run.log(), e);
        }
    }

    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }
}
