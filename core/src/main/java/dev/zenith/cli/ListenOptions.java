package dev.zenith.cli;

import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;
import picocli.CommandLine.Option;

import java.util.List;

/** Where a new repository's daemon listens: the options {@code init} and {@code clone} share. */
final class ListenOptions {

    @Option(names = "--api-port", paramLabel = "PORT", defaultValue = "" + RepositoryConfig.DEFAULT_API_PORT,
            description = "Port of the pageserver's API on 127.0.0.1 (default: ${DEFAULT-VALUE})")
    int apiPort;

    @Option(names = "--compute-port-base", paramLabel = "PORT", defaultValue = "" + RepositoryConfig.DEFAULT_COMPUTE_PORT_BASE,
            description = "First port tried for compute nodes (default: ${DEFAULT-VALUE})")
    int computePortBase;

    @Option(names = "--proxy-port", paramLabel = "PORT", defaultValue = "" + RepositoryConfig.DEFAULT_PROXY_PORT,
            description = "Port where clients connect naming a branch (default: ${DEFAULT-VALUE})")
    int proxyPort;

    @Option(names = "--proxy-socket-dir", paramLabel = "DIR",
            description = "Directory for the proxy's Unix socket; repeatable (default: /tmp and /var/run/postgresql)")
    List<String> proxySocketDirs;

    void check() {
        for (int port : new int[] {apiPort, computePortBase, proxyPort}) {
            if (port < 1 || port > 65535) {
                throw ZenithException.badRequest("invalid port " + port + ": use 1 to 65535");
            }
        }
    }
}
