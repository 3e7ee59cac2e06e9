package dev.zenith.storage;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.function.ToDoubleFunction;

/** What the repository holds per branch, read from disk at each scrape of {@code /metrics}. */
public final class StorageMetrics {

    public static void register(Repository repository) {
        perBranch(repository, "zenith_branch_storage_bytes", "Bytes a branch's timeline holds: WAL, images, metadata",
                Timeline::sizeBytes);
        perBranch(repository, "zenith_wal_archived_bytes", "Bytes of WAL archived in a branch's timeline",
                t -> t.wal().sizeBytes());
        perBranch(repository, "zenith_wal_archived_segments", "WAL segments archived in a branch's timeline",
                t -> t.wal().archived().size());
        perBranch(repository, "zenith_images", "Images (base backups) a branch's timeline holds",
                t -> t.images().size());
    }

    private static void perBranch(Repository repository, String name, String help, ToDoubleFunction<Timeline> value) {
        var builder = GaugeWithCallback.builder().name(name).help(help).labelNames("branch");
        if (name.endsWith("_bytes")) {
            builder.unit(Unit.BYTES);
        }
        builder.callback(callback -> repository.branches().all().forEach((branch, id) -> {
            try {
                callback.call(value.applyAsDouble(repository.timeline(id)), branch.value());
            } catch (RuntimeException deletedMeanwhile) {
                // a branch deleted during the scrape is simply not reported
            }
        })).register();
    }

    private StorageMetrics() {
    }
}
