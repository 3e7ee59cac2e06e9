package dev.zenith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * How a client reaches a branch through the proxy, written the way each client spells it. The branch
 * travels in the {@code options} startup parameter, which stock libpq, pgjdbc and node-postgres all pass on.
 */
public record ConnectionString(String host, int port, String user, String database, BranchName branch) {

    public static ConnectionString of(String proxyAddress, int proxyPort, String user, BranchName branch) {
        String host = proxyAddress.equals("0.0.0.0") || proxyAddress.equals("::") ? "127.0.0.1" : proxyAddress;
        return new ConnectionString(host, proxyPort, user, "postgres", branch);
    }

    /** A libpq URI: psql, node-postgres's {@code connectionString}, most drivers and GUI tools. */
    public String uri() {
        return "postgresql://" + encode(user) + "@" + uriHost() + ":" + port + "/" + encode(database)
                + "?options=" + encode("branch=" + branch.value());
    }

    /** libpq keyword/value form, for {@code psql "..."}. */
    public String keywords() {
        return "host=" + host + " port=" + port + " user=" + user + " dbname=" + database + " options=branch=" + branch.value();
    }

    public String jdbc() {
        return "jdbc:postgresql://" + uriHost() + ":" + port + "/" + encode(database) + "?user=" + encode(user)
                + "&options=" + encode("branch=" + branch.value());
    }

    /** node-postgres's client configuration object. */
    public String nodePostgres() {
        return "new pg.Client({ host: '" + host + "', port: " + port + ", user: '" + user + "', database: '" + database
                + "', options: '-c branch=" + branch.value() + "' })";
    }

    /**
     * Neon's serverless driver ({@code @neondatabase/serverless}): the settings that send {@code neon()}'s
     * HTTP queries and {@code Pool}'s WebSocket to the proxy, and the connection string the app keeps.
     */
    public String neon() {
        return neon("http");
    }

    /** {@link #neon()} for a proxy that offers TLS: https and wss (its certificate is self-signed). */
    public String neonOverTls() {
        return neon("https");
    }

    private String neon(String scheme) {
        return "neonConfig.fetchEndpoint = () => '" + scheme + "://" + uriHost() + ":" + port + "/sql';\n"
                + "neonConfig.wsProxy = () => '" + uriHost() + ":" + port + "/v2';\n"
                + "neonConfig.useSecureWebSocket = " + scheme.equals("https") + ";\n"
                + "DATABASE_URL=" + uri();
    }

    private String uriHost() {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
