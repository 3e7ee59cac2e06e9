package dev.zenith.api;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The console's files, shipped in the jar: one HTML page, its script and its style sheet, plain web
 * platform with nothing fetched from elsewhere. Only these names are served.
 */
final class ConsoleAssets {

    private record Asset(String resource, String contentType) {
    }

    private static final Map<String, Asset> FILES = Map.of(
            "/", new Asset("index.html", "text/html; charset=utf-8"),
            "/console.js", new Asset("console.js", "text/javascript; charset=utf-8"),
            "/console.css", new Asset("console.css", "text/css; charset=utf-8"),
            "/favicon.svg", new Asset("favicon.svg", "image/svg+xml"));

    /**
     * The page runs only its own script and talks only to this API; it may not be framed, so another
     * page cannot trick a click on "Delete".
     */
    private static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /** Answers a request for one of the console's files; false when the path is not one. */
    static boolean serve(HttpExchange exchange, String path) throws IOException {
        Asset file = FILES.get(path.equals("/index.html") ? "/" : path);
        if (file == null) {
            return false;
        }
        byte[] body;
        try (InputStream in = ConsoleAssets.class.getResourceAsStream("console/" + file.resource())) {
            if (in == null) {
                throw new IllegalStateException("the console's " + file.resource() + " is missing from the jar");
            }
            body = in.readAllBytes();
        }
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", file.contentType());
        headers.set("Cache-Control", "no-cache");
        headers.set("Content-Security-Policy", POLICY);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        headers.set("Referrer-Policy", "no-referrer");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, head ? -1 : body.length);
        if (!head) {
            exchange.getResponseBody().write(body);
        }
        return true;
    }

    private ConsoleAssets() {
    }
}
