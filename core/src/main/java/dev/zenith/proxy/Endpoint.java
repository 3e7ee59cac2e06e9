package dev.zenith.proxy;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One end of a relayed connection, TCP or Unix socket, as a pair of blocking streams for the startup
 * phase; plain connections then hand their channel to the {@link RelayLoop}, TLS ones keep the streams.
 */
final class Endpoint implements Closeable {

    static final String ALPN_POSTGRESQL = "postgresql";

    private final InputStream in;
    private final OutputStream out;
    private final Closeable resource;
    /** The plain channel, when there is no TLS on it. */
    private final SocketChannel channel;
    /** The TCP socket, when this is one: TLS can be layered on it. */
    private final Socket tcp;

    private Endpoint(InputStream in, OutputStream out, Closeable resource, SocketChannel channel, Socket tcp) {
        this.in = in;
        this.out = out;
        this.resource = resource;
        this.channel = channel;
        this.tcp = tcp;
    }

    /** A Unix socket, or a TCP one when {@code tcp} (TLS can then be started on it). */
    static Endpoint of(SocketChannel channel, boolean tcp) throws IOException {
        if (tcp) {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        return new Endpoint(Channels.newInputStream(channel), Channels.newOutputStream(channel), channel, channel,
                tcp ? channel.socket() : null);
    }

    private static Endpoint of(SSLSocket socket) throws IOException {
        return new Endpoint(socket.getInputStream(), socket.getOutputStream(), socket, null, socket);
    }

    /** The channel under this endpoint when it is plain (no TLS), for the relay loop; else null. */
    SocketChannel plainChannel() {
        return channel;
    }

    InputStream in() {
        return in;
    }

    OutputStream out() {
        return out;
    }

    /** TCP yes, once; Unix sockets no (libpq never asks for TLS there). */
    boolean canStartTls() {
        return tcp != null && !(tcp instanceof SSLSocket);
    }

    /** This connection with TLS on top, after the client was told 'S'. */
    Endpoint startTls(SSLContext context) throws IOException {
        return of(handshake((SSLSocket) context.getSocketFactory().createSocket(tcp, null, tcp.getPort(), true)));
    }

    /**
     * This connection with TLS on top, begun by the client without asking ({@code sslnegotiation=direct}):
     * {@code consumed} is the start of its ClientHello, already read to tell it from a startup packet.
     * As Postgres requires, the client must have named the protocol by ALPN; null when it did not.
     */
    Endpoint startDirectTls(SSLContext context, byte[] consumed) throws IOException {
        SSLSocket tls = handshake((SSLSocket) context.getSocketFactory()
                .createSocket(tcp, new ByteArrayInputStream(consumed), true));
        if (!ALPN_POSTGRESQL.equals(tls.getApplicationProtocol())) {
            tls.close();
            return null;
        }
        return of(tls);
    }

    /**
     * Offers ALPN {@code postgresql} as Postgres 17 and later do: a client that names another protocol is
     * refused in the handshake, one that names none is let in (direct TLS then checks, see above).
     */
    private static SSLSocket handshake(SSLSocket tls) throws IOException {
        tls.setUseClientMode(false);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {ALPN_POSTGRESQL});
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        return tls;
    }

    /**
     * Ends this side's sending and leaves its receiving open, as a client's {@code shutdown(SHUT_WR)} does:
     * TLS sends its close_notify.
     */
    void shutdownOutput() throws IOException {
        if (channel != null) {
            channel.shutdownOutput();
        } else {
            tcp.shutdownOutput();
        }
    }

    @Override
    public void close() throws IOException {
        resource.close();
    }
}
