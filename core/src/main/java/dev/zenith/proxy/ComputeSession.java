package dev.zenith.proxy;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.exception.ScramException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * A session the proxy opens on a compute as a client of its own, for clients that hand it a password
 * instead of speaking the protocol's authentication themselves: SQL over HTTP and Neon's WebSocket
 * driver. It logs in as Postgres asks (trust, cleartext, MD5 or SCRAM-SHA-256, so the compute checks the
 * password as it would for anyone), then runs statements with the extended protocol in text format, as
 * Neon's proxy does, so each result keeps its columns' type, table and position.
 *
 * <p>Written by hand beside pgjdbc: a JDBC result set hides the row description's table and column ids
 * and converts values, where the HTTP endpoint must hand on Postgres's own text.
 *
 * <p>Thread-safety: none; one thread uses a session at a time (the pool hands it out to one request).
 */
final class ComputeSession implements Closeable {

    /** One column of a {@code RowDescription}. */
    record Column(String name, int tableId, int columnId, int typeId, int typeSize, int typeModifier) {
    }

    /** What a statement returned: its columns, rows of text values (null for NULL) and command tag. */
    record Result(List<Column> columns, List<byte[][]> rows, String command) {
    }

    /** The result grew past the limit; the session is still usable, the statement's rows were dropped. */
    static final class TooLarge extends Exception {
        TooLarge(long limit) {
            super("response is too large (max is " + limit + " bytes)", null, false, false);
        }
    }

    /** What makes a session as good as new for its next user: settings, prepared statements, temp tables, locks, LISTENs. */
    private static final String RESET = "DISCARD ALL";

    private final SocketChannel channel;
    private final DataInputStream in;
    private final BufferedOutputStream out;
    /** ParameterStatus, BackendKeyData and notices the compute sent after authentication, as sent. */
    private final List<Wire.Message> greeting = new ArrayList<>();
    private int pid;
    private byte[] key = new byte[0];
    /** The transaction status of the last {@code ReadyForQuery}: 'I' idle, 'T' in a transaction, 'E' failed. */
    private int status = 'I';
    /** A reset went out behind the last statement and its answer is still to be read. */
    private boolean resetSent;

    private ComputeSession(SocketChannel channel) {
        this.channel = channel;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 64 * 1024));
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    }

    /**
     * Connects to the compute at {@code socket} and logs in with {@code startup}'s user and database and
     * {@code password} (null: none given). A refusal is the compute's own error, such as 28P01.
     */
    static ComputeSession open(Path socket, StartupMessage startup, String password) throws IOException, ServerError {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        ComputeSession session = new ComputeSession(channel);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            session.out.write(startup.encode());
            session.out.flush();
            session.login(startup.parameters().get("user"), password);
            return session;
        } catch (IOException | ServerError | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private void login(String user, String password) throws IOException, ServerError {
        ScramClient scram = null;
        while (true) {
            Wire.Message m = read();
            switch (m.type()) {
                case 'R' -> {
                    ByteBuffer body = ByteBuffer.wrap(m.body());
                    int code = body.getInt();
                    switch (code) {
                        case 0 -> { }
                        case 3 -> send('p', cString(requirePassword(password)));
                        case 5 -> send('p', cString(md5(requirePassword(password), user, Arrays.copyOfRange(m.body(), 4, 8))));
                        case 10 -> {
                            scram = ScramClient.builder().advertisedMechanisms(mechanisms(m.body()))
                                    .username("*").password(requirePassword(password).toCharArray()).build();
                            byte[] first = scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
                            ByteArrayOutputStream initial = new ByteArrayOutputStream();
                            initial.writeBytes(cString(scram.getScramMechanism().getName()));
                            initial.writeBytes(ByteBuffer.allocate(4).putInt(first.length).array());
                            initial.writeBytes(first);
                            send('p', initial.toByteArray());
                        }
                        case 11 -> {
                            try {
                                scram.serverFirstMessage(text(m.body(), 4));
                            } catch (ScramException e) {
                                throw new IOException("the compute's SCRAM challenge is malformed: " + e.getMessage(), e);
                            }
                            send('p', scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8));
                        }
                        case 12 -> {
                            try {
                                scram.serverFinalMessage(text(m.body(), 4));
                            } catch (ScramException e) {
                                throw new IOException("the compute's SCRAM signature does not verify: " + e.getMessage(), e);
                            }
                        }
                        default -> throw new IOException("the compute asks for authentication method " + code
                                + ", which the proxy does not speak");
                    }
                }
                case 'E' -> throw ServerError.parse(m.body());
                case 'K' -> {
                    ByteBuffer body = ByteBuffer.wrap(m.body());
                    pid = body.getInt();
                    key = Arrays.copyOfRange(m.body(), 4, m.body().length);
                    greeting.add(m);
                }
                case 'Z' -> {
                    status = m.body()[0];
                    return;
                }
                default -> greeting.add(m);
            }
        }
    }

    private static String requirePassword(String password) throws ServerError {
        if (password == null) {
            throw ServerError.of("28P01", "the compute asks for a password and the connection string has none",
                    "put it in the connection string: postgresql://USER:PASSWORD@HOST/DB (zenith connstr prints it)");
        }
        return password;
    }

    private static List<String> mechanisms(byte[] body) {
        List<String> names = new ArrayList<>();
        int i = 4;
        while (i < body.length && body[i] != 0) {
            int end = i;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            names.add(new String(body, i, end - i, StandardCharsets.UTF_8));
            i = end + 1;
        }
        return names;
    }

    private static String md5(String password, String user, byte[] salt) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            String inner = HexFormat.of().formatHex(md5.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            md5.update(inner.getBytes(StandardCharsets.US_ASCII));
            md5.update(salt);
            return "md5" + HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
    }

    /** What the compute said between authentication and its first {@code ReadyForQuery}. */
    List<Wire.Message> greeting() {
        return List.copyOf(greeting);
    }

    int pid() {
        return pid;
    }

    byte[] key() {
        return key.clone();
    }

    /** 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
    int transactionStatus() {
        return status;
    }

    /**
     * Runs one statement with {@code params} as text (null for NULL) through Parse, Bind, Describe,
     * Execute and Sync; every result value comes back as Postgres's text. Rows beyond {@code maxBytes} are
     * read and dropped, and {@link TooLarge} thrown once the session is ready again.
     */
    Result query(String sql, List<String> params, long maxBytes) throws IOException, ServerError, TooLarge {
        writeStatement(sql, params);
        out.flush();
        return readResult(maxBytes);
    }

    /**
     * {@link #query}, with the session's reset ({@code DISCARD ALL}) sent right behind the statement, so
     * the backend resets while the answer is on its way; {@link #reset()} collects it.
     */
    Result queryThenReset(String sql, List<String> params, long maxBytes) throws IOException, ServerError, TooLarge {
        writeStatement(sql, params);
        write('Q', cString(RESET));
        resetSent = true;
        out.flush();
        return readResult(maxBytes);
    }

    /**
     * Readies the session for its next user: {@code DISCARD ALL}, unless it was sent behind the last
     * statement already. True when the session is clean: reset, and outside any transaction (a reset
     * inside one fails, so a session left in a transaction is never handed on).
     */
    boolean reset() throws IOException {
        if (!resetSent) {
            send('Q', cString(RESET));
        }
        resetSent = false;
        try {
            readResult(Long.MAX_VALUE);
            return status == 'I';
        } catch (ServerError e) {
            return false;
        } catch (TooLarge e) {
            throw new IllegalStateException("no limit was set", e);
        }
    }

    private void writeStatement(String sql, List<String> params) throws IOException {
        ByteArrayOutputStream parse = new ByteArrayOutputStream();
        parse.writeBytes(cString(""));
        parse.writeBytes(cString(sql));
        parse.writeBytes(new byte[] {0, 0});
        ByteArrayOutputStream bind = new ByteArrayOutputStream();
        bind.writeBytes(cString(""));
        bind.writeBytes(cString(""));
        bind.writeBytes(new byte[] {0, 0});
        bind.writeBytes(ByteBuffer.allocate(2).putShort((short) params.size()).array());
        for (String p : params) {
            if (p == null) {
                bind.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
            } else {
                byte[] value = p.getBytes(StandardCharsets.UTF_8);
                bind.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
                bind.writeBytes(value);
            }
        }
        bind.writeBytes(new byte[] {0, 0});
        write('P', parse.toByteArray());
        write('B', bind.toByteArray());
        write('D', new byte[] {'P', 0});
        write('E', new byte[] {0, 0, 0, 0, 0});
        write('S', new byte[0]);
    }

    /** Runs {@code sql} (no parameters, no rows wanted: BEGIN, COMMIT) by the simple protocol. */
    void execute(String sql) throws IOException, ServerError {
        send('Q', cString(sql));
        try {
            readResult(Long.MAX_VALUE);
        } catch (TooLarge e) {
            throw new IllegalStateException("no limit was set", e);
        }
    }

    private Result readResult(long maxBytes) throws IOException, ServerError, TooLarge {
        List<Column> columns = List.of();
        List<byte[][]> rows = new ArrayList<>();
        String command = null;
        ServerError error = null;
        long bytes = 0;
        boolean tooLarge = false;
        while (true) {
            Wire.Message m = read();
            switch (m.type()) {
                case 'T' -> columns = columns(m.body());
                case 'D' -> {
                    bytes += m.body().length;
                    if (bytes > maxBytes) {
                        tooLarge = true;
                        rows.clear();
                    } else {
                        rows.add(row(m.body()));
                    }
                }
                case 'C' -> command = text(m.body(), 0);
                case 'I' -> command = "";
                case 'E' -> error = ServerError.parse(m.body());
                case 'Z' -> {
                    status = m.body()[0];
                    if (error != null) {
                        throw error;
                    }
                    if (tooLarge) {
                        throw new TooLarge(maxBytes);
                    }
                    return new Result(columns, rows, command == null ? "" : command);
                }
                default -> {
                    // ParseComplete, BindComplete, NoData, notices, parameter statuses, notifications
                }
            }
        }
    }

    private static List<Column> columns(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        int n = b.getShort();
        List<Column> columns = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int start = b.position();
            while (body[b.position()] != 0) {
                b.position(b.position() + 1);
            }
            String name = new String(body, start, b.position() - start, StandardCharsets.UTF_8);
            b.get();
            columns.add(new Column(name, b.getInt(), b.getShort(), b.getInt(), b.getShort(), b.getInt()));
            b.getShort(); // format: text, as Bind asked
        }
        return columns;
    }

    private static byte[][] row(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        int n = b.getShort();
        byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
            int length = b.getInt();
            if (length >= 0) {
                values[i] = new byte[length];
                b.get(values[i]);
            }
        }
        return values;
    }

    /**
     * Whether the compute is still at the other end: a pooled session whose compute was suspended or
     * restarted reads its end without waiting. Costs a non-blocking read, no round trip.
     */
    boolean isAlive() {
        try {
            if (in.available() > 0) {
                return false; // nothing may arrive between statements but a notice of the backend's end
            }
            ByteBuffer probe = ByteBuffer.allocate(1);
            channel.configureBlocking(false);
            int n;
            try {
                n = channel.read(probe);
            } finally {
                channel.configureBlocking(true);
            }
            return n == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The socket under this session, for a relay to take over once logged in; nothing is buffered by then. */
    SocketChannel takeChannel() throws IOException {
        if (in.available() > 0) {
            throw new IOException("the compute sent more than its greeting before the client asked anything");
        }
        return channel;
    }

    private Wire.Message read() throws IOException {
        Wire.Message m;
        try {
            m = Wire.readMessage(in, Integer.MAX_VALUE);
        } catch (EOFException e) {
            m = null;
        }
        if (m == null) {
            throw new EOFException("the compute closed the connection");
        }
        return m;
    }

    private void write(int type, byte[] body) throws IOException {
        out.write(type);
        out.write(ByteBuffer.allocate(4).putInt(4 + body.length).array());
        out.write(body);
    }

    private void send(int type, byte[] body) throws IOException {
        write(type, body);
        out.flush();
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    private static String text(byte[] body, int from) {
        int end = from;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        return new String(body, from, end - from, StandardCharsets.UTF_8);
    }

    /** Ends the session politely (Terminate), then closes the socket. */
    @Override
    public void close() {
        try {
            if (channel.isConnected()) {
                send('X', new byte[0]);
            }
        } catch (IOException ignored) {
            // the compute is gone already
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
