package dev.zenith.cli;

import dev.zenith.postgres.PgDistribution;
import dev.zenith.AuthMode;
import dev.zenith.IdleTimeout;
import dev.zenith.Interval;
import dev.zenith.RepositoryConfig;
import dev.zenith.WalCompression;
import dev.zenith.ZenithException;
import dev.zenith.pageserver.Offline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Create a repository and its main branch (runs initdb). Works without a pageserver.")
final class InitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--pg-version", paramLabel = "15|16|17|18",
            description = "PostgreSQL major version every branch runs (default: 18, bundled; 15 to 17 are fetched from"
                    + " Maven Central on first use; with --pg-bin, that installation's)")
    Integer pgVersion;

    @Option(names = "--pg-bin", paramLabel = "DIR",
            description = "bin directory of a system PostgreSQL ${sys:line.separator}(default: the bundled PostgreSQL 18)")
    String pgBin;

    @Option(names = "--os-user", paramLabel = "USER",
            description = "OS user Postgres runs as when zenith runs as root (default: " + RepositoryConfig.DEFAULT_OS_USER_AS_ROOT + ")")
    String osUser;

    @Mixin
    ListenOptions listen;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = RepositoryConfig.DEFAULT_IDLE_TIMEOUT,
            description = "Suspend an on-demand compute after this long with no client: 300s, 5m, 0, never (default: ${DEFAULT-VALUE})")
    String idleTimeout;

    @Option(names = "--max-computes", paramLabel = "N", defaultValue = "" + RepositoryConfig.DEFAULT_MAX_COMPUTES,
            description = "How many computes may run at once (default: ${DEFAULT-VALUE})")
    int maxComputes;

    @Option(names = "--retention", paramLabel = "DURATION", defaultValue = RepositoryConfig.DEFAULT_RETENTION,
            description = "How far back every branch's history stays available for --at and read-only views (default: ${DEFAULT-VALUE})")
    String retention;

    @Option(names = "--tls", description = "Offer TLS on the proxy with a self-signed certificate (sslmode=require works)")
    boolean tls;

    @Option(names = "--proxy-address", paramLabel = "ADDRESS", defaultValue = RepositoryConfig.DEFAULT_PROXY_ADDRESS,
            description = "Address the proxy listens on (default: ${DEFAULT-VALUE}); beyond loopback needs --auth password")
    String proxyAddress;

    @Option(names = "--auth", paramLabel = "trust|password", defaultValue = RepositoryConfig.DEFAULT_AUTH,
            description = "How computes authenticate clients: trust (loopback only, as a local Postgres) or password (SCRAM)"
                    + " (default: ${DEFAULT-VALUE})")
    String auth;

    @Option(names = "--wal-compression", paramLabel = "pglz|off|lz4|zstd", defaultValue = RepositoryConfig.DEFAULT_WAL_COMPRESSION,
            description = "Postgres's wal_compression on every branch: pglz shrinks the WAL kept for time travel about 4x"
                    + " and costs bulk updates time; lz4 and zstd need a --pg-bin built with them (default: ${DEFAULT-VALUE})")
    String walCompression;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "With --auth password: the superuser's password (default: $ZENITH_PASSWORD, else one is generated)")
    Path passwordFile;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path root = Main.newRepoRoot(spec);
        init(root, out);
        out.flush();
        return 0;
    }

    void init(Path root, PrintWriter out) {
        listen.check();
        if (maxComputes < 1) {
            throw ZenithException.badRequest("invalid --max-computes " + maxComputes + ": use 1 or more");
        }
        RepositoryConfig settings;
        try {
            // a system installation is recorded as PgDistribution resolves it: absolute and normalized
            String bin = pgBin == null || pgBin.isBlank() ? null : Path.of(pgBin).toAbsolutePath().normalize().toString();
            settings = RepositoryConfig.defaults().apiPort(listen.apiPort).computePortBase(listen.computePortBase).pgBin(bin)
                    .osUser(osUser).superuser(System.getProperty("user.name")).proxyPort(listen.proxyPort)
                    .proxyAddress(proxyAddress).proxySocketDirs(listen.proxySocketDirs).idleTimeout(IdleTimeout.parse(idleTimeout))
                    .maxComputes(maxComputes).retention(Interval.parse(retention, "--retention")).proxyTls(tls)
                    .auth(AuthMode.parse(auth)).walCompression(WalCompression.parse(walCompression))
                    .pgVersion(pgVersion == null ? 0 : pgVersion).build();
        } catch (IllegalArgumentException e) {
            throw ZenithException.badRequest(e.getMessage());
        }
        settings.checkExposure();
        String password = settings.passwordAuth() ? AuthCommand.choosePassword(passwordFile) : null;
        if (Offline.exists(root)) {
            throw ZenithException.conflict("a zenith repository already exists in " + Main.display(spec, root),
                    "use it as it is (zenith pageserver start), or remove " + Main.display(spec, root) + " to start over");
        }
        if (Files.exists(root) && !isEmptyDirectory(root)) {
            throw ZenithException.conflict(Main.display(spec, root) + " exists and is not an empty directory",
                    "choose another place with --repo, or empty it first");
        }
        Offline repository = Offline.init(root, settings, Optional.ofNullable(password), msg -> {
            out.println(msg);
            out.flush();
        });
        if (password != null) {
            AuthCommand.printPassword(spec, out, repository, password, passwordFile);
        }
        out.println("created main branch");
        out.println("new zenith repository was created in " + Main.display(spec, root));
        out.println("file system: " + StatusCommand.describe(repository.fileSystem()));
    }

    private static boolean isEmptyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
