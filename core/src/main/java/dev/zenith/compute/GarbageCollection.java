package dev.zenith.compute;

import dev.zenith.model.GcResult;
import dev.zenith.storage.GarbageCollector;
import dev.zenith.storage.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;

/** One garbage collection as the daemon runs it: an operation to watch, counted in the metrics and logged. */
final class GarbageCollection {

    private static final Logger log = LoggerFactory.getLogger(GarbageCollection.class);

    static final String WAITING = "waiting for starts, images and transfers under way";

    private GarbageCollection() {
    }

    /**
     * Waits for the {@link ArchiveLock} alone (shown as the operation's first phase: starts, images, branch
     * creations and transfers under way finish first), then collects.
     */
    static GcResult run(Repository repository, ArchiveLock archive, Operations operations) {
        try (Operations.Tracker op = operations.begin("gc", null, null)) {
            op.phase(WAITING);
            return archive.whileCollecting(() -> {
                op.phase("collecting garbage");
                return collect(repository);
            });
        }
    }

    private static GcResult collect(Repository repository) {
        GarbageCollector.Result r = new GarbageCollector(repository).collect(Instant.now());
        ComputeMetrics.GC_RUNS.inc();
        ComputeMetrics.GC_FREED.inc(r.freedBytes());
        log.info("gc: removed {} WAL files, {} images, {} timelines; freed {} bytes", r.segments(), r.images(),
                r.timelines(), r.freedBytes());
        return new GcResult(r.segments(), r.images(), r.timelines(), r.freedBytes());
    }
}
