package dev.zenith.proxy;

import dev.zenith.AtomicFiles;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The proxy's TLS: a self-signed certificate for localhost and 127.0.0.1, made once per repository by
 * the JDK's own {@code keytool} (the JDK has no public API to issue a certificate, and a library like
 * Bouncy Castle would be a large dependency for one self-signed cert).
 */
final class TlsContext {

    private TlsContext() {
    }

    static SSLContext forRepository(Path tlsDir) {
        Path keystore = tlsDir.resolve("proxy.p12");
        Path passwordFile = tlsDir.resolve("proxy.password");
        try {
            if (!Files.exists(keystore)) {
                generate(tlsDir, keystore, passwordFile);
            }
            char[] password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim().toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, password);
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw ZenithException.failed("cannot set up TLS from " + keystore + ": " + e.getMessage(),
                    "remove " + tlsDir + " to make a new certificate");
        }
    }

    private static void generate(Path tlsDir, Path keystore, Path passwordFile) throws IOException {
        Files.createDirectories(tlsDir);
        Files.setPosixFilePermissions(tlsDir, PosixFilePermissions.fromString("rwx------"));
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String password = HexFormat.of().formatHex(secret);
        Path keytool = Path.of(ProcessHandle.current().info().command().orElse("java")).resolveSibling("keytool");
        Path staged = tlsDir.resolve("proxy.p12.tmp");
        Files.deleteIfExists(staged);
        List<String> cmd = List.of(keytool.toString(), "-genkeypair", "-alias", "zenith-proxy", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "3650", "-dname", "CN=localhost, O=zenith",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1,ip:::1", "-keystore", staged.toString(), "-storetype", "PKCS12",
                "-storepass", password, "-keypass", password);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw ZenithException.failed("keytool could not make the proxy's certificate: " + out.trim(),
                        "check that " + keytool + " works");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted while making the proxy's certificate", null);
        }
        AtomicFiles.write(passwordFile, password.getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        AtomicFiles.moveDurably(staged, keystore);
    }
}
