package dev.zenith.compute;

import dev.zenith.model.ComputeState;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;

/** The computes' instruments, in the daemon's Prometheus registry (served on {@code /metrics}). */
public final class ComputeMetrics {

    /**
     * {@code data_dir}: "recovered" when the start built the compute from the repository (an image and WAL
     * replay: a cold start), "cached" when it restarted a kept data directory (a resume after suspend).
     */
    static final Histogram START_SECONDS = Histogram.builder()
            .name("zenith_compute_start_seconds")
            .help("Time from a compute start being decided to the compute accepting connections")
            .unit(Unit.SECONDS)
            .labelNames("data_dir")
            .classicOnly()
            .classicUpperBounds(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
            .register();

    static final Counter START_FAILURES = Counter.builder()
            .name("zenith_compute_start_failures_total")
            .help("Compute starts that failed")
            .register();

    static final Counter GC_FREED = Counter.builder()
            .name("zenith_gc_freed_bytes_total")
            .help("Bytes freed by garbage collection")
            .register();

    static final Counter GC_RUNS = Counter.builder()
            .name("zenith_gc_runs_total")
            .help("Garbage collection runs")
            .register();

    static final Counter IMAGES_MADE = Counter.builder()
            .name("zenith_images_made_total")
            .help("Images made of running computes (base backups) and of cleanly stopped ones")
            .register();


    /** Computes by state, read from the computes at each scrape. */
    public static void register(Computes computes) {
        START_SECONDS.initLabelValues("recovered");
        START_SECONDS.initLabelValues("cached");
        GaugeWithCallback.builder()
                .name("zenith_computes")
                .help("Compute nodes by state")
                .labelNames("state")
                .callback(callback -> {
                    Map<ComputeState, Integer> byState = new EnumMap<>(ComputeState.class);
                    EnumSet.range(ComputeState.NEW, ComputeState.STOPPED).forEach(s -> byState.put(s, 0));
                    computes.list().forEach(s -> byState.merge(s.state(), 1, Integer::sum));
                    byState.forEach((state, n) -> callback.call(n, state.toString()));
                })
                .register();
        GaugeWithCallback.builder()
                .name("zenith_follow_lag_bytes")
                .help("How far each followed branch's source has flushed WAL beyond what the branch received (-1: the source"
                        + " does not answer)")
                .labelNames("branch")
                .callback(callback -> computes.following().forEach((branch, state) -> callback.call(state.lagBytes(), branch)))
                .register();
        GaugeWithCallback.builder()
                .name("zenith_follow_lag_seconds")
                .help("How long since each followed branch was last caught up with its source (0: it is now; -1: unknown)")
                .labelNames("branch")
                .callback(callback -> computes.following().forEach((branch, state) -> callback.call(state.lagSeconds(), branch)))
                .register();
    }

    private ComputeMetrics() {
    }
}
