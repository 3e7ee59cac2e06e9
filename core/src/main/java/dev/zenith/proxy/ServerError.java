package dev.zenith.proxy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An {@code ErrorResponse} as fields by their one-letter codes ({@code C} the SQLSTATE, {@code M} the
 * message, {@code P} the position...), from a compute or made by the proxy in the same shape, so every
 * client path reports both alike.
 */
final class ServerError extends Exception {

    private final Map<Character, String> fields;

    ServerError(Map<Character, String> fields) {
        super(fields.getOrDefault('M', "unknown error"), null, false, false);
        this.fields = Map.copyOf(fields);
    }

    /** An error of the proxy's own: an ERROR with {@code sqlState}, {@code message} and an optional hint. */
    static ServerError of(String sqlState, String message, String hint) {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put('S', "ERROR");
        fields.put('V', "ERROR");
        fields.put('C', sqlState);
        fields.put('M', message);
        if (hint != null) {
            fields.put('H', hint);
        }
        return new ServerError(fields);
    }

    /** The body of an {@code ErrorResponse} (or {@code NoticeResponse}): code, text, zero; a zero at the end. */
    static ServerError parse(byte[] body) {
        Map<Character, String> fields = new LinkedHashMap<>();
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char code = (char) body[i];
            int end = i + 1;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            fields.put(code, new String(body, i + 1, end - i - 1, StandardCharsets.UTF_8));
            i = end + 1;
        }
        return new ServerError(fields);
    }

    String field(char code) {
        return fields.get(code);
    }

    String sqlState() {
        return fields.getOrDefault('C', "XX000");
    }

    Map<Character, String> fields() {
        return fields;
    }
}
