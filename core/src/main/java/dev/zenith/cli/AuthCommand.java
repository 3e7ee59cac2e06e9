package dev.zenith.cli;

import dev.zenith.AuthMode;
import dev.zenith.ZenithException;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "auth", mixinStandardHelpOptions = true,
        description = {"Show or change how computes authenticate clients.",
                "trust: connections from this machine need no password (a local Postgres's default).",
                "password: every connection, through the proxy or straight to a compute, needs the superuser's"
                        + " password (SCRAM); needed for a proxy listening beyond loopback.",
                "Change it with the pageserver stopped; each compute uses it from its next start."})
final class AuthCommand implements Callable<Integer> {

    private static final String PASSWORD_ENV = "ZENITH_PASSWORD";
    private static final int GENERATED_BYTES = 18;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "trust|password", description = "The mode to switch to.")
    String mode;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "With password: read it from FILE (default: $ZENITH_PASSWORD, else one is generated)")
    Path passwordFile;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path root = Main.repoRoot(spec);
        Offline repository = Offline.open(root);
        if (mode == null) {
            String current = repository.config().auth().text();
            out.println(json ? dev.zenith.Json.MAPPER.writeValueAsString(Map.of("auth", current)) : "auth: " + current);
            out.flush();
            return 0;
        }
        AuthMode chosen;
        try {
            chosen = AuthMode.parse(mode);
        } catch (IllegalArgumentException e) {
            throw ZenithException.badRequest(e.getMessage());
        }
        repository.daemonPid().ifPresent(pid -> {
            throw ZenithException.conflict("the pageserver is running (pid " + pid + "); the mode is read when it starts",
                    "zenith pageserver stop, then zenith auth " + mode + ", then zenith pageserver start");
        });
        repository.config().toBuilder().auth(chosen).build().checkExposure();
        if (chosen == AuthMode.PASSWORD) {
            String password = choosePassword(passwordFile);
            repository.setAuth(chosen, Optional.of(password));
            printPassword(spec, out, repository, password, passwordFile);
        } else {
            repository.setAuth(chosen, Optional.empty());
        }
        out.println("auth: " + mode + " (each compute uses it from its next start)");
        out.flush();
        return 0;
    }

    /** The password from a file, else from $ZENITH_PASSWORD, else a new random one. */
    static String choosePassword(Path file) {
        String password;
        if (file != null) {
            try {
                password = Files.readString(file).strip();
            } catch (IOException e) {
                throw ZenithException.badRequest("cannot read the password file " + file + ": " + e.getMessage());
            }
        } else if (System.getenv(PASSWORD_ENV) != null) {
            password = System.getenv(PASSWORD_ENV);
        } else {
            byte[] random = new byte[GENERATED_BYTES];
            new SecureRandom().nextBytes(random);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        }
        if (password.length() < 8 || password.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw ZenithException.badRequest("the password must have at least 8 characters and no control characters");
        }
        return password;
    }

    /** Where the password is kept; the password itself only when it was generated (nobody knows it yet). */
    static void printPassword(CommandSpec spec, PrintWriter out, Offline repository, String password, Path file) {
        String user = repository.config().superuser();
        if (file == null && System.getenv(PASSWORD_ENV) == null) {
            out.println("generated a password for user " + user + ": " + password);
        }
        out.println("the password of user " + user + " is kept in " + Main.display(spec, repository.passwordFile())
                + " (readable by you only); connect with PGPASSWORD=\"$(cat "
                + Main.display(spec, repository.passwordFile()) + ")\" psql ...");
        out.flush();
    }
}
