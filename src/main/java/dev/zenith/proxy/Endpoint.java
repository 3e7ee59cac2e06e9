package dev.zenith.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/** One end of a relayed connection, TCP or Unix socket, as a pair of streams that can be used from two threads. */
interface Endpoint extends Closeable {

    InputStream in();

    OutputStream out();

    /** Whether TLS can be layered on this connection: TCP yes, Unix sockets no (libpq never asks there). */
    default boolean canStartTls() {
        return false;
    }

    /** This connection with TLS on top, after the client was told 'S'. */
    default Endpoint startTls(javax.net.ssl.SSLContext context) throws IOException {
        throw new UnsupportedOperationException("no TLS on this connection");
    }

    static Endpoint of(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        return new Endpoint() {
            public InputStream in() {
                return in;
            }

            public OutputStream out() {
                return out;
            }

            public void close() throws IOException {
                socket.close();
            }

            @Override
            public boolean canStartTls() {
                return !(socket instanceof javax.net.ssl.SSLSocket);
            }

            @Override
            public Endpoint startTls(javax.net.ssl.SSLContext context) throws IOException {
                javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                        .createSocket(socket, null, socket.getPort(), true);
                tls.setUseClientMode(false);
                tls.startHandshake();
                return Endpoint.of(tls);
            }
        };
    }

    static Endpoint of(SocketChannel channel) {
        InputStream in = Channels.newInputStream(channel);
        OutputStream out = Channels.newOutputStream(channel);
        return new Endpoint() {
            public InputStream in() {
                return in;
            }

            public OutputStream out() {
                return out;
            }

            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
