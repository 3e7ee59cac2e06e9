package dev.zenith;

/**
 * A failure meant for the user: the message says what went wrong with the offending value, and the
 * hint what to do next. The kind decides the HTTP status and the CLI's exit code.
 */
public class ZenithException extends RuntimeException {

    /**
     * What kind of failure, which decides the exit code (README, "Exit codes"): BAD_REQUEST is what was typed
     * (a value that can never be valid here, an operation main never allows), exit 2; the others are what the
     * repository or the machine refused or could not do, exit 1.
     */
    public enum Kind { BAD_REQUEST, NOT_FOUND, CONFLICT, LIMIT, FAILED }

    private final Kind kind;
    private final String hint;

    public ZenithException(Kind kind, String message, String hint) {
        super(message);
        this.kind = kind;
        this.hint = hint;
    }

    public ZenithException(Kind kind, String message, String hint, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.hint = hint;
    }

    public static ZenithException badRequest(String message) {
        return new ZenithException(Kind.BAD_REQUEST, message, null);
    }

    public static ZenithException badRequest(String message, String hint) {
        return new ZenithException(Kind.BAD_REQUEST, message, hint);
    }

    public static ZenithException notFound(String message, String hint) {
        return new ZenithException(Kind.NOT_FOUND, message, hint);
    }

    public static ZenithException conflict(String message, String hint) {
        return new ZenithException(Kind.CONFLICT, message, hint);
    }

    public static ZenithException limit(String message, String hint) {
        return new ZenithException(Kind.LIMIT, message, hint);
    }

    public static ZenithException failed(String message, String hint) {
        return new ZenithException(Kind.FAILED, message, hint);
    }

    public Kind kind() {
        return kind;
    }

    /** What to do next; may be null. */
    public String hint() {
        return hint;
    }
}
