package dev.zenith.proxy;

import dev.zenith.ZenithException;
import dev.zenith.compute.ComputeLeases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Postgres front door: TCP on {@code address:port} and Unix sockets {@code .s.PGSQL.<port>} in the
 * configured directories, so {@code psql "dbname=postgres port=5432 options=branch=x"} works with or
 * without a host. A thread per connection for its startup, then one {@link RelayLoop} for every
 * established plain session; HTTP clients on the TCP port (Neon's serverless driver) go to the
 * {@link HttpFrontDoor}. Either every listener binds, or none stays open.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);
    private static final int BACKLOG = 1024;

    private final ComputeLeases computes;
    private final CancelKeys cancelKeys = new CancelKeys();
    private final Duration startupTimeout;
    private final javax.net.ssl.SSLContext tls;
    private final ServerSocketChannel tcp;
    private final RelayLoop relayLoop = new RelayLoop();
    private final HttpFrontDoor http;
    private final List<ServerSocketChannel> unix = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private final List<String> addresses = new ArrayList<>();
    private volatile boolean closed;

    /**
     * Binds the listeners. With {@code tlsDir}, TLS is offered on TCP with a self-signed certificate kept
     * there (made on first use), so {@code sslmode=require} works; without, SSLRequest is answered 'N'.
     */
    public ProxyServer(ComputeLeases computes, String address, int port, List<Path> socketDirs, Duration startupTimeout,
                       Path tlsDir, List<String> httpOrigins) {
        ProxyMetrics.init();
        this.computes = computes;
        this.startupTimeout = startupTimeout;
        this.tls = tlsDir == null ? null : TlsContext.forRepository(tlsDir);
        this.http = new HttpFrontDoor(computes, cancelKeys, new HttpFrontDoor.OriginPolicy(List.copyOf(httpOrigins)), startupTimeout);
        try {
            tcp = ServerSocketChannel.open();
        } catch (IOException e) {
            relayLoop.close();
            http.close();
            throw ZenithException.failed("the proxy cannot open a socket: " + e.getMessage(), "see the pageserver log");
        }
        try {
            tcp.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            tcp.bind(new InetSocketAddress(InetAddress.getByName(address), port), BACKLOG);
            addresses.add(address + ":" + port);
        } catch (BindException e) {
            close();
            throw portInUse(address + ":" + port, port);
        } catch (IOException e) {
            close();
            throw ZenithException.failed("the proxy cannot listen on " + address + ":" + port + ": " + e.getMessage(),
                    "choose another address or port: zenith pageserver start --proxy-port N");
        }
        try {
            for (Path dir : socketDirs) {
                bindUnix(dir, port);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void bindUnix(Path dir, int port) {
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            log.info("no proxy socket in {}: not a writable directory", dir);
            return;
        }
        Path file = dir.resolve(".s.PGSQL." + port);
        if (Files.exists(file)) {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(file));
                throw portInUse(file.toString(), port);
            } catch (IOException stale) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    throw ZenithException.failed("cannot remove the stale socket " + file + ": " + e.getMessage(),
                            "remove it by hand");
                }
            }
        }
        try {
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            channel.bind(UnixDomainSocketAddress.of(file), BACKLOG);
            unix.add(channel);
            socketFiles.add(file);
            addresses.add(file.toString());
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw ZenithException.failed("the proxy cannot listen on " + file + ": " + e.getMessage(),
                    "choose other socket directories (proxySocketDirs in .zenith/config.json)");
        }
    }

    private static ZenithException portInUse(String where, int port) {
        return ZenithException.conflict("port " + port + " is already in use (" + where + "), so the proxy cannot listen there",
                "stop what holds it, or give this repository another port: zenith pageserver start --proxy-port N (kept in config.json)");
    }

    /**
     * Startup phases run on platform threads. A socket first used from a virtual thread stays
     * non-blocking for good, so every later blocking read becomes read, EAGAIN, poll, read; JFR showed
     * the proxy's time going to that poll (docs/BENCHMARKS.md). Kept blocking, a read is one system call.
     * Once a plain session is established its bytes move on the {@link RelayLoop}, and this thread only
     * waits for the session's end to release the compute.
     */
    private static final Thread.Builder CONNECTIONS = Thread.ofPlatform().daemon().stackSize(256 * 1024).name("proxy-", 0);

    public void start() {
        accept(tcp, true);
        for (ServerSocketChannel channel : unix) {
            accept(channel, false);
        }
        log.info("proxy listening on {}", addresses);
    }

    private void accept(ServerSocketChannel listener, boolean isTcp) {
        Thread.ofPlatform().daemon().name(isTcp ? "proxy-accept-tcp" : "proxy-accept-unix").start(() -> {
            while (!closed) {
                try {
                    SocketChannel socket = listener.accept();
                    CONNECTIONS.start(() -> handle(socket, isTcp));
                } catch (IOException e) {
                    if (!closed) {
                        log.warn("proxy accept failed: {}", e.getMessage());
                    }
                }
            }
        });
    }

    private void handle(SocketChannel socket, boolean isTcp) {
        try {
            new ClientConnection(Endpoint.of(socket, isTcp), tls, computes, cancelKeys, relayLoop, http, startupTimeout).run();
        } catch (IOException e) {
            log.debug("client connection failed: {}", e.getMessage());
            try {
                socket.close();
            } catch (IOException ignored) {
                // it is gone either way
            }
        }
    }

    /** Where clients can connect: {@code host:port} and socket paths. */
    public List<String> addresses() {
        return List.copyOf(addresses);
    }

    @Override
    public void close() {
        closed = true;
        relayLoop.close();
        http.close();
        try {
            if (tcp != null) {
                tcp.close();
            }
            for (ServerSocketChannel channel : unix) {
                channel.close();
            }
            for (Path file : socketFiles) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            log.warn("cannot close the proxy's listeners: {}", e.getMessage());
        }
    }
}
