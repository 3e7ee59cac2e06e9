package dev.zenith.model;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;

import java.nio.file.Path;

/**
 * A compute node as {@code zenith pg list} shows it.
 *
 * @param lsn         where its WAL stands: the insert position when running, else the timeline's end
 * @param connections clients through the proxy or direct, when running
 * @param idleSeconds how long it has had no client, when running
 * @param idleTimeout the idle timeout in force ({@code 300s}, {@code never})
 * @param readOnlyAt  for a read-only view of the past, the LSN it shows; null for the branch's own node
 */
public record ComputeStatus(String name, BranchName branch, TimelineId timeline, String host, int port,
                            ComputeState state, Long pid, Lsn lsn, Path dataDir, String user, Integer connections,
                            Long idleSeconds, String idleTimeout, Lsn readOnlyAt) {
}
