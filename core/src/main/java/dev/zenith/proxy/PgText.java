package dev.zenith.proxy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Values between JSON and Postgres's text format, as Neon's proxy converts them: parameters arrive as
 * JSON and go to Postgres as text (arrays as array literals); results leave as Postgres's text, or, without
 * {@code Neon-Raw-Text-Output}, as JSON booleans, numbers, documents and lists where the type says so.
 */
final class PgText {

    private static final int BOOL = 16;
    private static final int INT2 = 21;
    private static final int INT4 = 23;
    private static final int FLOAT4 = 700;
    private static final int FLOAT8 = 701;
    private static final int JSON = 114;
    private static final int JSONB = 3802;
    /** Array types of the element types above and of text-like ones, by their oids. */
    private static final Map<Integer, Integer> ELEMENT_OF = Map.ofEntries(
            Map.entry(1000, BOOL), Map.entry(1005, INT2), Map.entry(1007, INT4), Map.entry(1021, FLOAT4),
            Map.entry(1022, FLOAT8), Map.entry(199, JSON), Map.entry(3807, JSONB), Map.entry(1009, 25),
            Map.entry(1015, 1043), Map.entry(1016, 20), Map.entry(1231, 1700), Map.entry(2951, 2950),
            Map.entry(1182, 1082), Map.entry(1115, 1114), Map.entry(1185, 1184));

    private PgText() {
    }

    /** A parameter as Postgres text: null stays NULL, strings as they are, arrays as array literals, the rest as JSON. */
    static String fromJson(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isArray()) {
            return arrayLiteral(v);
        }
        return v.toString();
    }

    private static String arrayLiteral(JsonNode v) {
        if (v.isNull()) {
            return "NULL";
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(item -> items.add(arrayLiteral(item)));
            return "{" + String.join(",", items) + "}";
        }
        if (v.isObject()) {
            return quote(v.toString());
        }
        return v.isTextual() ? quote(v.asText()) : v.toString();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Writes one result value: null, the text as it is ({@code raw}), or converted by its type. */
    static void writeJson(JsonGenerator g, byte[] value, int typeId, boolean raw) throws IOException {
        if (value == null) {
            g.writeNull();
            return;
        }
        String text = new String(value, StandardCharsets.UTF_8);
        if (raw) {
            g.writeString(text);
            return;
        }
        Integer element = ELEMENT_OF.get(typeId);
        if (element != null) {
            writeArray(g, new ArrayParser(text), element);
        } else {
            writeScalar(g, text, typeId);
        }
    }

    private static void writeScalar(JsonGenerator g, String text, int typeId) throws IOException {
        switch (typeId) {
            case BOOL -> g.writeBoolean(text.equals("t"));
            case INT2, INT4 -> g.writeNumber(Integer.parseInt(text));
            case FLOAT4, FLOAT8 -> {
                double d = Double.parseDouble(text);
                if (Double.isFinite(d)) {
                    g.writeNumber(d);
                } else {
                    g.writeString(text);
                }
            }
            case JSON, JSONB -> g.writeRawValue(text);
            default -> g.writeString(text);
        }
    }

    private static void writeArray(JsonGenerator g, ArrayParser p, int element) throws IOException {
        p.skipBounds();
        p.expect('{');
        g.writeStartArray();
        if (!p.peek('}')) {
            do {
                if (p.peek('{')) {
                    writeArray(g, p, element);
                } else {
                    String item = p.item();
                    if (item == null) {
                        g.writeNull();
                    } else {
                        writeScalar(g, item, element);
                    }
                }
            } while (p.comma());
        }
        p.expect('}');
        g.writeEndArray();
    }

    /** Reads an array's text form: braces, commas, quoted items with backslash escapes, NULL. */
    private static final class ArrayParser {
        private final String s;
        private int i;

        ArrayParser(String s) {
            this.s = s;
        }

        void skipBounds() {
            if (i == 0 && s.startsWith("[")) {
                i = s.indexOf('=') + 1;
            }
        }

        boolean peek(char c) {
            return i < s.length() && s.charAt(i) == c;
        }

        void expect(char c) throws IOException {
            if (!peek(c)) {
                throw new IOException("unbalanced array text at " + i + ": " + s);
            }
            i++;
        }

        boolean comma() {
            if (peek(',')) {
                i++;
                return true;
            }
            return false;
        }

        String item() throws IOException {
            if (peek('"')) {
                StringBuilder b = new StringBuilder();
                i++;
                while (i < s.length() && s.charAt(i) != '"') {
                    if (s.charAt(i) == '\\') {
                        i++;
                    }
                    if (i >= s.length()) {
                        break;
                    }
                    b.append(s.charAt(i++));
                }
                expect('"');
                return b.toString();
            }
            int start = i;
            while (i < s.length() && s.charAt(i) != ',' && s.charAt(i) != '}') {
                i++;
            }
            String bare = s.substring(start, i);
            return bare.equals("NULL") ? null : bare;
        }
    }
}
