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
