package dev.zenith.api;

import com.sun.net.httpserver.HttpExchange;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may drive the daemon: whoever proves they are the repository's owner. The CLI, the git hook and
 * zenith-junit run as the owner and read the token file (mode 0600) to send it as a bearer token, as
 * Docker's and Kubernetes' local APIs take one; a browser never sees it: {@code zenith console} asks for a
 * one-time code, and the console's login page trades it for a session cookie that scripts cannot read
 * ({@code HttpOnly}) and other sites cannot send ({@code SameSite=Strict}).
 *
 * <p>Thread-safety: codes and sessions are concurrent collections; the token never changes.
 */
final class Owner {

    static final String COOKIE = "zenith_session";
    private static final Duration CODE_LIFETIME = Duration.ofMinutes(2);

    private final byte[] token;
    private final SecureRandom random = new SecureRandom();
    /** One-time codes by value, with the time (nanoTime) they stop being valid. */
    private final Map<String, Long> codes = new ConcurrentHashMap<>();
    /** Session cookies given out since the daemon started; they end with it. */
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();

    Owner(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the request carries the token, or the cookie of a console session. */
    boolean proves(HttpExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization != null && authorization.startsWith("Bearer ")
                && MessageDigest.isEqual(token, authorization.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        return cookie(exchange.getRequestHeaders().get("Cookie")).filter(sessions::contains).isPresent();
    }

    /** A code that opens one console session, valid for a short while. */
    String newCode() {
        String code = secret();
        codes.put(code, System.nanoTime() + CODE_LIFETIME.toNanos());
        return code;
    }

    /** Trades a valid, unused code for a new session's cookie value. */
    Optional<String> redeem(String code) {
        Long until = code == null ? null : codes.remove(code);
        if (until == null || System.nanoTime() - until > 0) {
            return Optional.empty();
        }
        String session = secret();
        sessions.add(session);
        return Optional.of(session);
    }

    /** The {@code Set-Cookie} value for a session: the whole site, no script access, never sent by other sites. */
    static String setCookie(String session) {
        return COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict";
    }

    private String secret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static Optional<String> cookie(List<String> headers) {
        if (headers == null) {
            return Optional.empty();
        }
        for (String header : headers) {
            for (String part : header.split(";")) {
                String p = part.trim();
                if (p.startsWith(COOKIE + "=")) {
                    return Optional.of(p.substring(COOKIE.length() + 1));
                }
            }
        }
        return Optional.empty();
    }
}
