package dev.zenith.proxy;

import dev.zenith.BranchName;
import dev.zenith.PointInTime;
import dev.zenith.ZenithException;
import dev.zenith.compute.ComputeLeases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code StartupMessage}: protocol version and parameters, and where the client named its branch.
 *
 * <p>Stock libpq refuses unknown connection keywords, so the branch travels in {@code options}, as
 * Neon's endpoint does: {@code options=branch=NAME}, {@code options='-c branch=NAME'},
 * {@code options=--branch=NAME} (so {@code PGOPTIONS} works), or a parameter literally named
 * {@code branch}. The branch token is removed and every other token reaches Postgres unchanged.
 */
record StartupMessage(int protocol, Map<String, String> parameters) {

    static StartupMessage parse(int protocol, byte[] body, int offset) throws Wire.ProtocolException {
        Map<String, String> params = new LinkedHashMap<>();
        int i = offset;
        while (true) {
            int keyEnd = indexOfZero(body, i);
            if (keyEnd == i) {
                break;
            }
            int valueEnd = indexOfZero(body, keyEnd + 1);
            params.put(new String(body, i, keyEnd - i, StandardCharsets.UTF_8),
                    new String(body, keyEnd + 1, valueEnd - keyEnd - 1, StandardCharsets.UTF_8));
            i = valueEnd + 1;
        }
        if (!params.containsKey("user")) {
            throw Wire.ProtocolException.refused("28000", "no PostgreSQL user name specified in startup packet");
        }
        return new StartupMessage(protocol, params);
    }

    private static int indexOfZero(byte[] body, int from) throws Wire.ProtocolException {
        for (int i = from; i < body.length; i++) {
            if (body[i] == 0) {
                return i;
            }
        }
        throw Wire.ProtocolException.refused("08P01", "invalid startup packet layout: expected terminator as last byte");
    }

    byte[] encode() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((k, v) -> {
            body.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            body.write(0);
            body.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        });
        body.write(0);
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(protocol).put(b).array();
    }

    /**
     * Where a client asked to go: a branch, a past point of it for a read-only view (null: its latest
     * state), and the message to forward, with the branch taken out.
     */
    record Route(BranchName branch, PointInTime at, StartupMessage forward) {

        private static final Logger log = LoggerFactory.getLogger(Route.class);

        /**
         * A lease on where this route leads: the branch's compute (made and started when needed) or the
         * read-only view of its past. A refusal is a {@link ServerError} with the SQLSTATE every client
         * path reports: 3D000 no such branch, 22023 a bad request, 53300 the limit, 55000 a conflict,
         * 58000 a compute that failed (the hint names its log).
         */
        ComputeLeases.Lease lease(ComputeLeases computes) throws ServerError {
            try {
                return at == null ? computes.lease(branch) : computes.leaseReadOnly(branch, at);
            } catch (ZenithException e) {
                throw ServerError.of(sqlState(e), e.getMessage(), e.hint());
            } catch (RuntimeException e) {
                log.error("cannot start a compute for branch {}", branch, e);
                throw ServerError.of("58000", "cannot start a compute for branch \"" + branch + "\": " + e.getMessage(),
                        "see the pageserver log");
            }
        }

        private static String sqlState(ZenithException e) {
            return switch (e.kind()) {
                case NOT_FOUND -> "3D000";
                case BAD_REQUEST -> "22023";
                case LIMIT -> "53300";
                case CONFLICT -> "55000";
                case FAILED -> "58000";
            };
        }
    }

    /** A branch the client named that leads nowhere: answered with {@code sqlState} before any compute is touched. */
    static final class Unroutable extends Exception {
        private final String sqlState;
        private final String hint;

        Unroutable(String sqlState, String message, String hint) {
            super(message, null, false, false);
            this.sqlState = sqlState;
            this.hint = hint;
        }

        String sqlState() {
            return sqlState;
        }

        String hint() {
            return hint;
        }

        /** The same refusal as an error any client path reports. */
        ServerError asError() {
            return ServerError.of(sqlState, getMessage(), hint);
        }
    }

    /** The route: no branch named is main; {@code NAME@POINT} is a read-only view ({@code main@0/16B5A50}, {@code main@-10m}). */
    Route route(Instant now) throws Unroutable {
        Map<String, String> params = new LinkedHashMap<>(parameters);
        String named = takeBranch(params).orElse(BranchName.MAIN.value());
        int at = named.indexOf('@');
        BranchName branch;
        try {
            branch = new BranchName(at < 0 ? named : named.substring(0, at));
        } catch (IllegalArgumentException e) {
            throw new Unroutable("42602", e.getMessage(), "name a branch like options=branch=main; zenith branch lists them");
        }
        try {
            PointInTime point = at < 0 ? null : PointInTime.parse(named.substring(at + 1), now);
            return new Route(branch, point, new StartupMessage(protocol, params));
        } catch (IllegalArgumentException e) {
            throw new Unroutable("22023", e.getMessage(),
                    "for a read-only view of the past use branch=main@0/16B5A50, branch=main@2026-11-24T10:15:00Z or branch=main@TAG");
        }
    }

    /** Removes the branch from the parameters (a parameter of its own, or a token of {@code options}) and returns it. */
    private static Optional<String> takeBranch(Map<String, String> params) {
        String branch = params.remove("branch");
        String options = params.get("options");
        if (options != null) {
            List<String> tokens = splitOptions(options);
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                String value = null;
                if (t.startsWith("branch=")) {
                    value = t.substring("branch=".length());
                } else if (t.startsWith("--branch=")) {
                    value = t.substring("--branch=".length());
                } else if (t.startsWith("-cbranch=")) {
                    value = t.substring("-cbranch=".length());
                } else if (t.equals("-c") && i + 1 < tokens.size() && tokens.get(i + 1).startsWith("branch=")) {
                    value = tokens.get(++i).substring("branch=".length());
                }
                if (value != null) {
                    branch = value;
                } else {
                    kept.add(t);
                }
            }
            if (kept.isEmpty()) {
                params.remove("options");
            } else {
                params.put("options", joinOptions(kept));
            }
        }
        return Optional.ofNullable(branch);
    }

    /** Splits {@code options} as Postgres does: on spaces, with backslash escaping the next character. */
    static List<String> splitOptions(String options) {
        List<String> tokens = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean escaped = false;
        boolean inToken = false;
        for (char c : options.toCharArray()) {
            if (escaped) {
                current.append('\\').append(c);
                escaped = false;
                inToken = true;
            } else if (c == '\\') {
                escaped = true;
            } else if (Character.isWhitespace(c)) {
                if (inToken) {
                    tokens.add(current.toString());
                    current.setLength(0);
                    inToken = false;
                }
            } else {
                current.append(c);
                inToken = true;
            }
        }
        if (inToken) {
            tokens.add(current.toString());
        }
        return tokens;
    }

    private static String joinOptions(List<String> tokens) {
        return String.join(" ", tokens);
    }
}
