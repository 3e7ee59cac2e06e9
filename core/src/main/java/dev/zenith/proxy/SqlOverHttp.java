package dev.zenith.proxy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import dev.zenith.compute.ComputeLeases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code POST /sql}, as Neon's proxy serves it to {@code neon()} of {@code @neondatabase/serverless}: the
 * connection string in {@code Neon-Connection-String}, a body of {@code {"query", "params"}} or
 * {@code {"queries": [...]}} (a batch, run as one transaction shaped by the {@code Neon-Batch-*} headers),
 * an answer of {@code fields}, {@code rows}, {@code command} and {@code rowCount}, and errors as
 * Postgres's fields under Neon's names, which the driver turns into its {@code NeonDbError}. Each request
 * leases the branch's compute (starting it when cold) and borrows a pooled session on it.
 */
final class SqlOverHttp {

    private static final Logger log = LoggerFactory.getLogger(SqlOverHttp.class);
    private static final JsonFactory JSON = Json.MAPPER.getFactory();
    /** Neon's limits: a request's body and a response's rows. */
    static final int MAX_REQUEST_BYTES = 10 * 1024 * 1024;
    static final long MAX_RESPONSE_BYTES = 10L * 1024 * 1024;

    /** The answer: an HTTP status, a JSON body and headers to add. */
    record Reply(int status, byte[] body, Map<String, String> headers) {
    }

    /** One statement of a request, its parameters as Postgres text, and its own array mode if it set one. */
    private record Statement(String query, List<String> params, Boolean arrayMode) {
    }

    private final ComputeLeases computes;
    private final SessionPool pool;

    SqlOverHttp(ComputeLeases computes, SessionPool pool) {
        this.computes = computes;
        this.pool = pool;
    }

    /** An answer, and what to do once it was sent: give the session back. */
    private record Answer(Reply reply, Runnable release) {
    }

    /**
     * Answers one request through {@code respond}, then puts its session back (the reset's round trip comes
     * after the answer is on its way). {@code header} looks a request header up by name (null when absent).
     */
    void handle(Function<String, String> header, byte[] body, Consumer<Reply> respond) {
        Answer answer;
        try {
            answer = run(header, body);
        } catch (ServerError e) {
            answer = new Answer(error(e), () -> { });
        } catch (SessionBroken e) {
            answer = new Answer(error(ServerError.of("08006", "the connection to the compute broke: " + e.getMessage(),
                    "see the compute's log with zenith pg list and .zenith/logs"), 500), () -> { });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = new Answer(error(ServerError.of("57P01", "the proxy is shutting down", null), 500), () -> { });
        }
        try {
            respond.accept(answer.reply());
        } finally {
            answer.release().run();
        }
    }

    private Answer run(Function<String, String> header, byte[] body) throws ServerError, SessionBroken, InterruptedException {
        NeonConnectionString target = NeonConnectionString.parse(header.apply("Neon-Connection-String"));
        boolean raw = "true".equals(header.apply("Neon-Raw-Text-Output"));
        boolean arrayMode = "true".equals(header.apply("Neon-Array-Mode"));
        String isolation = isolation(header.apply("Neon-Batch-Isolation-Level"));
        boolean readOnly = "true".equals(header.apply("Neon-Batch-Read-Only"));
        boolean deferrable = "true".equals(header.apply("Neon-Batch-Deferrable"));
        JsonNode payload;
        try {
            payload = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ServerError.of("08P01", "the request body is not JSON: " + e.getMessage(), "send {\"query\": \"...\", \"params\": [...]}");
        }
        List<Statement> statements;
        boolean batch = payload != null && payload.has("queries");
        if (batch) {
            if (!payload.get("queries").isArray()) {
                throw ServerError.of("08P01", "\"queries\" must be an array of {\"query\", \"params\"}", null);
            }
            statements = new ArrayList<>();
            for (JsonNode q : payload.get("queries")) {
                statements.add(statement(q));
            }
        } else {
            statements = List.of(statement(payload));
        }

        StartupMessage.Route route;
        try {
            route = target.startup().route(Instant.now());
        } catch (StartupMessage.Unroutable e) {
            throw e.asError();
        }
        SessionPool.Key key;
        SessionPool.Borrowed borrowed;
        try {
            if (route.at() == null) {
                key = new SessionPool.Key("branch " + route.branch(), route.forward(), target.password());
                borrowed = pool.take(key, () -> route.lease(computes), lease -> ComputeSession.open(lease.socket(), route.forward(), target.password()));
            } else {
                // a past point resolves to a read-only view only now (main@-10m moves): leased first, pooled by its compute
                ComputeLeases.Lease view = route.lease(computes);
                key = new SessionPool.Key("compute " + view.compute(), route.forward(), target.password());
                try {
                    borrowed = pool.take(key, () -> view, lease -> ComputeSession.open(lease.socket(), route.forward(), target.password()));
                } catch (IOException | ServerError | InterruptedException | RuntimeException e) {
                    view.close();
                    throw e;
                }
                if (borrowed.lease() != view) {
                    view.close(); // a parked session on the same view was resumed under a lease of its own
                }
            }
        } catch (IOException e) {
            throw new SessionBroken(e);
        }
        SessionPool.Key taken = key;
        SessionPool.Borrowed session = borrowed;
        try {
            byte[] json = batch ? runBatch(session.session(), statements, raw, arrayMode, isolation, readOnly, deferrable)
                    : runOne(session.session(), statements.getFirst(), raw, arrayMode);
            Map<String, String> headers = new LinkedHashMap<>();
            if (batch) {
                if (readOnly) {
                    headers.put("Neon-Batch-Read-Only", "true");
                }
                if (deferrable) {
                    headers.put("Neon-Batch-Deferrable", "true");
                }
                if (isolation != null) {
                    headers.put("Neon-Batch-Isolation-Level", header.apply("Neon-Batch-Isolation-Level"));
                }
            }
            return new Answer(new Reply(200, json, headers), () -> pool.giveBack(taken, session));
        } catch (ServerError e) {
            // Postgres answered and the session is ready again (ReadyForQuery came)
            return new Answer(error(e), () -> pool.giveBack(taken, session));
        } catch (ComputeSession.TooLarge e) {
            return new Answer(error(ServerError.of("54000", e.getMessage(), "select fewer rows, or page through them with LIMIT"), 507),
                    () -> pool.giveBack(taken, session));
        } catch (IOException | RuntimeException e) {
            pool.discard(taken, session);
            if (e instanceof IOException io) {
                throw new SessionBroken(io);
            }
            throw (RuntimeException) e;
        }
    }

    private static Statement statement(JsonNode q) throws ServerError {
        if (q == null || !q.isObject() || !q.path("query").isTextual()) {
            throw ServerError.of("08P01", "each statement must be an object with a \"query\" string", "send {\"query\": \"SELECT $1\", \"params\": [1]}");
        }
        List<String> params = new ArrayList<>();
        JsonNode p = q.path("params");
        if (!p.isMissingNode() && !p.isNull()) {
            if (!p.isArray()) {
                throw ServerError.of("08P01", "\"params\" must be an array", null);
            }
            for (JsonNode v : p) {
                params.add(PgText.fromJson(v));
            }
        }
        JsonNode mode = q.path("arrayMode");
        return new Statement(q.get("query").asText(), params, mode.isBoolean() ? mode.asBoolean() : null);
    }

    private static String isolation(String header) throws ServerError {
        if (header == null) {
            return null;
        }
        return switch (header) {
            case "Serializable" -> "SERIALIZABLE";
            case "RepeatableRead" -> "REPEATABLE READ";
            case "ReadCommitted" -> "READ COMMITTED";
            case "ReadUncommitted" -> "READ UNCOMMITTED";
            default -> throw ServerError.of("08P01", "invalid isolation level \"" + header + "\" in Neon-Batch-Isolation-Level",
                    "use Serializable, RepeatableRead, ReadCommitted or ReadUncommitted");
        };
    }

    private static byte[] runOne(ComputeSession session, Statement s, boolean raw, boolean arrayMode)
            throws IOException, ServerError, ComputeSession.TooLarge {
        ComputeSession.Result result = session.queryThenReset(s.query(), s.params(), MAX_RESPONSE_BYTES);
        return write(g -> writeResult(g, result, raw, s.arrayMode() == null ? arrayMode : s.arrayMode()));
    }

    private static byte[] runBatch(ComputeSession session, List<Statement> statements, boolean raw, boolean arrayMode,
                                   String isolation, boolean readOnly, boolean deferrable)
            throws IOException, ServerError, ComputeSession.TooLarge {
        StringBuilder begin = new StringBuilder("BEGIN");
        if (isolation != null) {
            begin.append(" ISOLATION LEVEL ").append(isolation);
        }
        if (readOnly) {
            begin.append(" READ ONLY");
        }
        if (deferrable) {
            begin.append(" DEFERRABLE");
        }
        session.execute(begin.toString());
        List<ComputeSession.Result> results = new ArrayList<>();
        long left = MAX_RESPONSE_BYTES;
        try {
            for (Statement s : statements) {
                ComputeSession.Result r = session.query(s.query(), s.params(), left);
                left -= r.rows().stream().mapToLong(row -> 8L * row.length + java.util.Arrays.stream(row).mapToLong(v -> v == null ? 0 : v.length).sum()).sum();
                results.add(r);
            }
            session.execute("COMMIT");
        } catch (ServerError | ComputeSession.TooLarge e) {
            session.execute("ROLLBACK");
            throw e;
        }
        return write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("results");
            for (int i = 0; i < results.size(); i++) {
                Boolean own = statements.get(i).arrayMode();
                writeResult(g, results.get(i), raw, own == null ? arrayMode : own);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** One result as Neon writes it: fields, rows, command, rowCount, rowAsArray. */
    private static void writeResult(JsonGenerator g, ComputeSession.Result r, boolean raw, boolean arrayMode) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("fields");
        for (ComputeSession.Column c : r.columns()) {
            g.writeStartObject();
            g.writeStringField("name", c.name());
            g.writeNumberField("dataTypeID", c.typeId());
            g.writeNumberField("tableID", c.tableId());
            g.writeNumberField("columnID", c.columnId());
            g.writeNumberField("dataTypeSize", c.typeSize());
            g.writeNumberField("dataTypeModifier", c.typeModifier());
            g.writeStringField("format", "text");
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("rows");
        for (byte[][] row : r.rows()) {
            if (arrayMode) {
                g.writeStartArray();
            } else {
                g.writeStartObject();
            }
            for (int i = 0; i < row.length; i++) {
                ComputeSession.Column c = r.columns().get(i);
                if (!arrayMode) {
                    g.writeFieldName(c.name());
                }
                PgText.writeJson(g, row[i], c.typeId(), raw);
            }
            if (arrayMode) {
                g.writeEndArray();
            } else {
                g.writeEndObject();
            }
        }
        g.writeEndArray();
        String[] tag = r.command().split(" ");
        g.writeStringField("command", tag[0]);
        String count = tag[0].equals("INSERT") ? (tag.length > 2 ? tag[2] : null) : (tag.length > 1 ? tag[1] : null);
        if (count != null && count.chars().allMatch(Character::isDigit)) {
            g.writeNumberField("rowCount", Long.parseLong(count));
        } else {
            g.writeNullField("rowCount");
        }
        g.writeBooleanField("rowAsArray", arrayMode);
        g.writeEndObject();
    }

    @FunctionalInterface
    private interface JsonWriting {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] write(JsonWriting writing) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            writing.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write JSON to memory", e);
        }
        return out.toByteArray();
    }

    private static Reply error(ServerError e) {
        return error(e, e.sqlState().equals("58000") ? 500 : 400);
    }

    /** An error in Neon's shape: Postgres's fields under the names the driver copies into NeonDbError. */
    static Reply error(ServerError e, int status) {
        byte[] json = write(g -> {
            g.writeStartObject();
            g.writeStringField("message", e.getMessage());
            g.writeStringField("code", e.sqlState());
            for (Map.Entry<String, Character> f : NEON_FIELDS.entrySet()) {
                String value = e.field(f.getValue());
                if (value == null) {
                    g.writeNullField(f.getKey());
                } else {
                    g.writeStringField(f.getKey(), value);
                }
            }
            g.writeEndObject();
        });
        return new Reply(status, json, Map.of());
    }

    /** The fields of an ErrorResponse by the names Neon's proxy gives them, in its order. */
    private static final Map<String, Character> NEON_FIELDS = orderedFields();

    private static Map<String, Character> orderedFields() {
        Map<String, Character> m = new LinkedHashMap<>();
        m.put("detail", 'D');
        m.put("hint", 'H');
        m.put("position", 'P');
        m.put("internalPosition", 'p');
        m.put("internalQuery", 'q');
        m.put("severity", 'S');
        m.put("where", 'W');
        m.put("table", 't');
        m.put("column", 'c');
        m.put("schema", 's');
        m.put("dataType", 'd');
        m.put("constraint", 'n');
        m.put("file", 'F');
        m.put("line", 'L');
        m.put("routine", 'R');
        return m;
    }

    /** The session cannot be trusted any more: the compute went away mid-request. */
    private static final class SessionBroken extends Exception {
        SessionBroken(IOException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }
}
