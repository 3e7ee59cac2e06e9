package dev.zenith.proxy;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The few pieces of the Postgres wire protocol the proxy speaks itself. Written by hand because no
 * library offers a server side of the protocol, and the proxy needs only the startup phase.
 */
final class Wire {

    static final int SSL_REQUEST = 80877103;
    static final int GSSENC_REQUEST = 80877104;
    static final int CANCEL_REQUEST = 80877102;
    /** What Postgres allows a startup packet (MAX_STARTUP_PACKET_LENGTH). */
    static final int MAX_STARTUP_PACKET = 10000;

    private Wire() {
    }

    /** An untyped startup-phase packet: its length was read and checked, this is what followed it. */
    static byte[] readStartupPacket(DataInputStream in) throws IOException, ProtocolException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            throw ProtocolException.unframed("the connection closed before a startup packet arrived");
        }
        if (length < 8 || length > MAX_STARTUP_PACKET) {
            throw ProtocolException.unframed("invalid length of startup packet: " + length + " (8 to " + MAX_STARTUP_PACKET + " bytes)");
        }
        byte[] body = new byte[length - 4];
        try {
            in.readFully(body);
        } catch (EOFException e) {
            throw ProtocolException.unframed("incomplete startup packet: " + length + " bytes announced");
        }
        return body;
    }

    /** A typed protocol message: its type byte and what followed its length word. */
    record Message(int type, byte[] body) {

        /** The message as it travels: type, length (counting itself), body. */
        byte[] encode() {
            return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
        }
    }

    /**
     * Reads one typed message, refusing a length below 4 or above {@code maxLength}; null at a clean end
     * of stream before the type byte.
     */
    static Message readMessage(DataInputStream in, int maxLength) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        int length = in.readInt();
        if (length < 4 || length > maxLength) {
            throw new IOException("invalid length " + length + " of a '" + (char) type + "' message (4 to " + maxLength + " bytes)");
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /** A FATAL {@code ErrorResponse}, as Postgres sends before closing a connection. */
    static byte[] fatal(String sqlState, String message, String hint) {
        ByteArrayOutputStream fields = new ByteArrayOutputStream();
        field(fields, 'S', "FATAL");
        field(fields, 'V', "FATAL");
        field(fields, 'C', sqlState);
        field(fields, 'M', message);
        if (hint != null) {
            field(fields, 'H', hint);
        }
        fields.write(0);
        return new Message('E', fields.toByteArray()).encode();
    }

    private static void field(ByteArrayOutputStream out, char type, String value) {
        out.write(type);
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    /**
     * The client broke the startup phase. Answered as Postgres answers: a packet that cannot even be
     * framed (a bad length, the connection ending inside it) closes the connection without a word, since
     * the server only logs those; a framed packet it will not accept gets a FATAL with Postgres's SQLSTATE,
     * in protocol 2's format when that is what the client asked for.
     */
    static final class ProtocolException extends Exception {
        private final byte[] reply;

        private ProtocolException(byte[] reply, String message) {
            super(message, null, false, false);
            this.reply = reply;
        }

        static ProtocolException unframed(String message) {
            return new ProtocolException(null, message);
        }

        static ProtocolException refused(String sqlState, String message) {
            return new ProtocolException(fatal(sqlState, message, null), message);
        }

        /** A protocol 2 client is told in its own format: 'E', the text, a zero byte; no SQLSTATE. */
        static ProtocolException refusedInProtocol2(String message) {
            return new ProtocolException(("EFATAL:  " + message + "\n\0").getBytes(StandardCharsets.UTF_8), message);
        }

        /** What to send before closing; empty: close without a word. */
        Optional<byte[]> reply() {
            return Optional.ofNullable(reply);
        }
    }
}
