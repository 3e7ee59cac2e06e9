package dev.zenith.proxy;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The connection string Neon's driver sends with each HTTP query ({@code Neon-Connection-String}) and
 * the app configured: {@code postgresql://USER[:PASSWORD]@HOST[:PORT]/DB?options=branch%3DNAME}. Its
 * user, database and server parameters become the startup message a TCP client would send, so the branch
 * is named the same ways; the password is what the proxy logs in with.
 */
record NeonConnectionString(StartupMessage startup, String password) {

    /** Protocol 3.0, what Neon's proxy speaks to computes. */
    private static final int PROTOCOL_3_0 = 196608;
    /** libpq's settings of the client side, which are no server parameters. */
    private static final Set<String> CLIENT_SETTINGS = Set.of("sslmode", "sslrootcert", "sslcert", "sslkey",
            "sslnegotiation", "channel_binding", "connect_timeout", "target_session_attrs", "gssencmode",
            "require_auth", "load_balance_hosts", "keepalives", "host", "hostaddr", "port", "passfile");

    static NeonConnectionString parse(String text) throws ServerError {
        if (text == null || text.isBlank()) {
            throw invalid("the request has no Neon-Connection-String header", null);
        }
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw invalid("the Neon-Connection-String is not a URL: " + e.getReason(), null);
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw invalid("the Neon-Connection-String must start with postgresql://, not \"" + uri.getScheme() + "://\"", null);
        }
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null || userInfo.isEmpty() || userInfo.startsWith(":")) {
            throw invalid("the Neon-Connection-String names no user", "postgresql://USER@HOST/DB");
        }
        int colon = userInfo.indexOf(':');
        String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
        String password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String database = path.length() > 1 ? decode(path.substring(1)) : user;
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("database", database);
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (key.equals("user") || key.equals("dbname") || key.equals("password")) {
                    throw invalid("put the " + key + " in the URL's " + (key.equals("dbname") ? "path" : "user part")
                            + ", not in its query (" + key + "=...)", "postgresql://USER:PASSWORD@HOST/DB");
                }
                if (!CLIENT_SETTINGS.contains(key)) {
                    params.put(key, value);
                }
            }
        }
        return new NeonConnectionString(new StartupMessage(PROTOCOL_3_0, params), password);
    }

    private static String decode(String s) throws ServerError {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid("the Neon-Connection-String has a broken %-escape: " + e.getMessage(), null);
        }
    }

    private static ServerError invalid(String message, String hint) {
        return ServerError.of("08P01", message, hint == null ? "send the connection string the app uses, e.g. from zenith connstr --format neon" : hint);
    }
}
