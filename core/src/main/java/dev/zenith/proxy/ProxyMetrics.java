package dev.zenith.proxy;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;

/** The proxy's instruments, in the daemon's Prometheus registry (served on {@code /metrics}). */
final class ProxyMetrics {

    static final Counter CONNECTIONS = Counter.builder()
            .name("zenith_proxy_connections_total")
            .help("Client connections accepted by the proxy")
            .register();

    static final Gauge ACTIVE = Gauge.builder()
            .name("zenith_proxy_connections_active")
            .help("Client connections open through the proxy")
            .register();

    private static final Counter BYTES = Counter.builder()
            .name("zenith_proxy_bytes_total")
            .help("Bytes relayed between clients and computes after start-up")
            .labelNames("direction")
            .register();

    static final CounterDataPoint TO_COMPUTE = BYTES.labelValues("client_to_compute");
    static final CounterDataPoint TO_CLIENT = BYTES.labelValues("compute_to_client");

    /** Loads the instruments, so that they show at zero from the first scrape rather than from the first client. */
    static void init() {
        ACTIVE.set(0);
    }

    private ProxyMetrics() {
    }
}
