package dev.zenith.proxy;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/** One end of a relayed connection, TCP or Unix socket, as a pair of streams usable from two threads. */
final class Endpoint implements Closeable {

    private final InputStream in;
    private final OutputStream out;
    private final Closeable resource;
    /** The TCP socket, when this is one: TLS can be layered on it. */
    private final Socket tcp;

    private Endpoint(InputStream in, OutputStream out, Closeable resource, Socket tcp) {
        this.in = in;
        this.out = out;
        this.resource = resource;
        this.tcp = tcp;
    }

    static Endpoint of(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        return new Endpoint(socket.getInputStream(), socket.getOutputStream(), socket, socket);
    }

    static Endpoint of(SocketChannel channel) {
        return new Endpoint(Channels.newInputStream(channel), Channels.newOutputStream(channel), channel, null);
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
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(tcp, null, tcp.getPort(), true);
        tls.setUseClientMode(false);
        tls.startHandshake();
        return of(tls);
    }

    @Override
    public void close() throws IOException {
        resource.close();
    }
}
