package dev.zenith.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
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

    /**
     * TLS at once, as {@code sslnegotiation=direct} does (PostgreSQL 17+ clients), naming {@code alpn} as
     * the application protocol (none when null). Any certificate is accepted: the proxy's is self-signed.
     */
    static RawClient connectDirectTls(int port, String alpn) throws IOException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
            if (alpn != null) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setApplicationProtocols(new String[] {alpn});
                socket.setSSLParameters(parameters);
            }
            socket.startHandshake();
            return new RawClient(socket);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** Ends what this client sends, as {@code shutdown(SHUT_WR)}; what the server sends still arrives. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Reads one Authentication message and returns its code (0 ok, 10 SASL, ...). */
    int readAuthenticationCode() throws IOException {
        char type = (char) in.readUnsignedByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        if (type != 'R') {
            throw new IOException("expected an Authentication message, got '" + type + "'");
        }
        return ByteBuffer.wrap(body).getInt();
    }

    /**
     * What a stream of server messages says about a query: the first column of its first row, and
     * whether its CommandComplete and ReadyForQuery came.
     */
    static String describe(byte[] messages) {
        ByteBuffer b = ByteBuffer.wrap(messages);
        String value = null;
        boolean complete = false;
        boolean ready = false;
        while (b.remaining() >= 5) {
            char type = (char) b.get();
            int length = b.getInt();
            if (length - 4 > b.remaining()) {
                break;
            }
            byte[] body = new byte[length - 4];
            b.get(body);
            if (type == 'D' && value == null) {
                int len = ByteBuffer.wrap(body, 2, 4).getInt();
                value = new String(body, 6, len, StandardCharsets.UTF_8);
            }
            complete |= type == 'C';
            ready |= type == 'Z';
        }
        return (value == null ? "no row" : value) + " then " + (complete ? "CommandComplete" : "no CommandComplete")
                + " and " + (ready ? "ReadyForQuery" : "no ReadyForQuery");
    }

    /** Everything the server sends until it closes the connection (empty: it closed without a word). */
    byte[] readToEnd() throws IOException {
        try {
            return in.readAllBytes();
        } catch (java.net.SocketException reset) {
            return new byte[0];
        }
    }

    /**
     * How a server answered a startup packet it would not take: "closed without a word", or the
     * SQLSTATE of the ErrorResponse it sent before closing.
     */
    static String outcome(byte[] answer) {
        if (answer.length == 0) {
            return "closed without a word";
        }
        if (answer[0] != 'E') {
            return "sent '" + (char) answer[0] + "'";
        }
        for (int i = 5; i < answer.length - 1; i++) {
            if (answer[i] == 'C' && answer[i - 1] == 0) {
                return "ErrorResponse " + new String(answer, i + 1, 5, StandardCharsets.US_ASCII);
            }
        }
        return "ErrorResponse without SQLSTATE";
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
