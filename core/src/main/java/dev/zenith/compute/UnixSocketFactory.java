package dev.zenith.compute;

import javax.net.SocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * pgjdbc's {@code socketFactory} for a compute's Unix socket ({@code socketFactoryArg} its path), so
 * zenith's own connections never need the compute's TCP port: in password mode a compute starts trusting
 * only that socket, in the repository only its owner and Postgres may enter, until its password is in
 * force, and loopback TCP asks for the password from the first moment.
 *
 * <p>Written by hand because pgjdbc 42.7 takes Unix sockets only through a {@link Socket}, which the JDK
 * gives TCP alone (its built-in factory is pgjdbc/pgjdbc#4188, unreleased). It offers the part of the
 * socket API pgjdbc uses: streams whose reads honour {@code setSoTimeout} (pgjdbc's {@code socketTimeout}),
 * and the TCP options it sets, which mean nothing here and are ignored.
 */
public final class UnixSocketFactory extends SocketFactory {

    private final Path path;

    /** pgjdbc calls this with {@code socketFactoryArg}. */
    public UnixSocketFactory(String path) {
        this.path = Path.of(path);
    }

    @Override
    public Socket createSocket() throws IOException {
        return new UnixSocket(path);
    }

    @Override
    public Socket createSocket(String host, int port) {
        throw new UnsupportedOperationException("a Unix socket has no host and port");
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
        throw new UnsupportedOperationException("a Unix socket has no host and port");
    }

    @Override
    public Socket createSocket(InetAddress host, int port) {
        throw new UnsupportedOperationException("a Unix socket has no host and port");
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) {
        throw new UnsupportedOperationException("a Unix socket has no host and port");
    }

    /**
     * A connected Unix socket behind the {@link Socket} API. Reads wait in a selector for at most the
     * socket timeout; writes block until done. One thread reads and one writes at a time, as pgjdbc does.
     */
    private static final class UnixSocket extends Socket {
        private static final int BUFFER = 64 * 1024;

        private final SocketChannel channel;
        private final Selector readable;
        private final Selector writable;
        private volatile int timeoutMillis;

        UnixSocket(Path path) throws IOException {
            super((java.net.SocketImpl) null);
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(UnixDomainSocketAddress.of(path));
                channel.configureBlocking(false);
                readable = Selector.open();
                channel.register(readable, SelectionKey.OP_READ);
                writable = Selector.open();
                channel.register(writable, SelectionKey.OP_WRITE);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }

        @Override
        public InputStream getInputStream() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                    while (true) {
                        int n = channel.read(buffer);
                        if (n != 0) {
                            return n;
                        }
                        int timeout = timeoutMillis;
                        if (readable.select(timeout) == 0 && timeout > 0) {
                            throw new SocketTimeoutException("no answer on " + channel.getRemoteAddress() + " in " + timeout + " ms");
                        }
                        readable.selectedKeys().clear();
                    }
                }

                @Override
                public int available() throws IOException {
                    return 0;
                }
            };
        }

        @Override
        public OutputStream getOutputStream() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                    while (buffer.hasRemaining()) {
                        if (channel.write(buffer) == 0) {
                            writable.select(); // the compute's side is full: it takes more as it reads
                            writable.selectedKeys().clear();
                        }
                    }
                }
            };
        }

        @Override
        public boolean isConnected() {
            return channel.isConnected();
        }

        @Override
        public boolean isClosed() {
            return !channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            try {
                readable.close();
                writable.close();
            } finally {
                channel.close();
            }
        }

        @Override
        public void setSoTimeout(int timeout) throws SocketException {
            timeoutMillis = timeout;
        }

        @Override
        public int getSoTimeout() {
            return timeoutMillis;
        }

        @Override
        public void setTcpNoDelay(boolean on) {
        }

        @Override
        public void setKeepAlive(boolean on) {
        }

        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
            throw new SocketException("already connected to " + channel.getRemoteAddress());
        }

        @Override
        public void setSendBufferSize(int size) {
        }

        @Override
        public void setReceiveBufferSize(int size) {
        }

        @Override
        public int getSendBufferSize() {
            return BUFFER;
        }

        @Override
        public int getReceiveBufferSize() {
            return BUFFER;
        }

        @Override
        public InetAddress getInetAddress() {
            return null;
        }

        @Override
        public String toString() {
            return "UnixSocket[" + getRemoteSocketAddress() + "]";
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            try {
                return channel.getRemoteAddress();
            } catch (IOException e) {
                return null;
            }
        }
    }
}
