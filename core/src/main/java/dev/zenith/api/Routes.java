package dev.zenith.api;

import dev.zenith.BranchName;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API's endpoints as a table: a method, a path pattern whose {@code {name}} parts match one path
 * segment, and what answers it. The first route whose method and path match answers; none is a 404 that
 * names the request. Immutable once built.
 */
final class Routes {

    /** A request as a handler sees it: the path's parts, in order, and the body, read as JSON or as bytes. */
    interface Request {
        String part(int index);

        <T> T body(Class<T> type) throws IOException;

        byte[] bytes() throws IOException;
    }

    /** Answers one request; the result is written as JSON. */
    interface Handler {
        Object handle(Request request) throws IOException;
    }

    private record Route(String method, String template, Pattern path, Handler handler) {
    }

    /** Reads a request's body; the server's, so the limits on its size live in one place. */
    interface BodyReader {
        <T> T read(Class<T> type) throws IOException;

        byte[] bytes() throws IOException;
    }

    private final List<Route> routes = new ArrayList<>();

    Routes add(String method, String template, Handler handler) {
        routes.add(new Route(method, template, Pattern.compile(template.replaceAll("\\{[a-z]+}", "([^/]+)")), handler));
        return this;
    }

    /** The table as {@code METHOD /path/{part}}, in order. */
    List<String> endpoints() {
        return routes.stream().map(r -> r.method() + " " + r.template()).toList();
    }

    Object dispatch(String method, String path, BodyReader body) throws IOException {
        for (Route route : routes) {
            Matcher m = route.path().matcher(path);
            if (route.method().equals(method) && m.matches()) {
                return route.handler().handle(new Request() {
                    @Override
                    public String part(int index) {
                        return m.group(index + 1);
                    }

                    @Override
                    public <T> T body(Class<T> type) throws IOException {
                        return body.read(type);
                    }

                    @Override
                    public byte[] bytes() throws IOException {
                        return body.bytes();
                    }
                });
            }
        }
        throw ZenithException.notFound("no such API endpoint: " + method + " " + BranchName.printable(path), "see docs/API.md");
    }
}
