package dev.zenith.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** A hand-driven Postgres protocol client, for packets no driver sends (malformed ones, protocol 3.2). */
final class RawClient implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(60_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RawClient connect(int port) throws IOException {
        return new RawClient(new Socket("127.0.0.1", port));
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void startup(int major, int minor, Map<String, String> params) throws IOException {
        send(startupPacket(major, minor, params));
    }

    static byte[] startupPacket(int major, int minor, Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        params.forEach((k, v) -> {
            body.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            body.write(0);
            body.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        });
        body.write(0);
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putShort((short) major).putShort((short) minor).put(b).array();
    }

    /** Messages up to ReadyForQuery, the last body of each type. */
    Map<Character, byte[]> readUntilReady() throws IOException {
        Map<Character, byte[]> seen = new HashMap<>();
        while (true) {
            char type = (char) in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            seen.put(type, body);
            if (type == 'Z' || type == 'E') {
                return seen;
            }
        }
    }

    void sendQuery(String sql) throws IOException {
        byte[] q = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        send(ByteBuffer.allocate(5 + q.length).put((byte) 'Q').putInt(4 + q.length).put(q).array());
    }

    /** Runs a query and returns the first column of its first row. */
    String simpleQuery(String sql) throws IOException {
        sendQuery(sql);
        String value = null;
        while (true) {
            char type = (char) in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'D' && value == null) {
                ByteBuffer b = ByteBuffer.wrap(body);
                b.getShort();
                int len = b.getInt();
                value = new String(body, 6, len, StandardCharsets.UTF_8);
            }
            if (type == 'Z') {
                return value;
            }
        }
    }

    /** Sends a CancelRequest with the body of a BackendKeyData message (pid and key). */
    void cancel(byte[] keyData) throws IOException {
        send(ByteBuffer.allocate(8 + keyData.length).putInt(8 + keyData.length).putInt(80877102).put(keyData).array());
    }

    /** Reads until an ErrorResponse and returns its fields. */
    Map<Character, String> readError() throws IOException {
        while (true) {
            char type = (char) in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') {
                Map<Character, String> fields = new HashMap<>();
                int i = 0;
                while (body[i] != 0) {
                    char field = (char) body[i];
                    int end = i + 1;
                    while (body[end] != 0) {
                        end++;
                    }
                    fields.put(field, new String(body, i + 1, end - i - 1, StandardCharsets.UTF_8));
                    i = end + 1;
                }
                return fields;
            }
        }
    }

    boolean isClosedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
