package dev.zenith.model;

import java.util.List;

/** The running daemon: where it listens, its binaries, its running computes and its spares. */
public record DaemonStatus(long pid, String repository, String api, List<String> proxy, int proxyPort, String postgresBin,
                           String postgresVersion, String osUser, String superuser, long idleChecks,
                           List<ComputeStatus> computes, SpareStatus spares) {
}
