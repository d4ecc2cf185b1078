package io.fastlitellm.metrics;

import io.fastlitellm.upstream.PoolStats;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The gateway's Prometheus metrics ({@code GET /metrics}), on the Prometheus Java client: requests by
 * model group, deployment and status; request and overhead latency histograms; tokens; limiter
 * rejections; upstream pool gauges; cooldowns. Also keeps per-deployment outcome counts that the
 * recommendations read.
 *
 * <p>Thread-safe: the client's metrics are; the per-deployment counts are {@link LongAdder}s in a
 * concurrent map, one entry per deployment id (bounded by the config).
 */
public final class GatewayMetrics {
    private static final double[] SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] OVERHEAD = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram duration;
    private final Histogram overhead;
    private final Counter tokens;
    private final Counter rejections;
    private final Counter cooldowns;
    private final Map<String, LongAdder[]> outcomes = new ConcurrentHashMap<>();

    /**
     * @param pool the upstream pool's statistics, read at each scrape
     * @param inCooldown deployments in cooldown now, read at each scrape
     */
    public GatewayMetrics(Supplier<PoolStats> pool, IntSupplier inCooldown) {
        requests = Counter.builder().name("fast_litellm_requests").help("Requests answered, by model group, deployment and status")
                .labelNames("model_group", "deployment", "status").register(registry);
        duration = Histogram.builder().name("fast_litellm_request_duration_seconds").unit(Unit.SECONDS)
                .help("Whole request latency, accept to last byte").classicUpperBounds(SECONDS).labelNames("model_group")
                .register(registry);
        overhead = Histogram.builder().name("fast_litellm_overhead_duration_seconds").unit(Unit.SECONDS)
                .help("Time spent in the gateway itself (request latency minus provider time)").classicUpperBounds(OVERHEAD)
                .register(registry);
        tokens = Counter.builder().name("fast_litellm_tokens").help("Tokens used, by model group and type (prompt, completion)")
                .labelNames("model_group", "type").register(registry);
        rejections = Counter.builder().name("fast_litellm_rate_limit_rejections")
                .help("Requests refused by a rate limit, by scope (key, deployment)").labelNames("scope").register(registry);
        cooldowns = Counter.builder().name("fast_litellm_deployment_cooldowns").help("Times a deployment entered cooldown")
                .labelNames("deployment").register(registry);
        GaugeWithCallback.builder().name("fast_litellm_upstream_connections").help("Upstream connections by state")
                .labelNames("state").callback(cb -> {
                    PoolStats s = pool.get();
                    cb.call(s.open(), "open");
                    cb.call(s.idle(), "idle");
                    cb.call(s.inUse(), "in_use");
                    cb.call(s.waiting(), "waiting");
                }).register(registry);
        CounterWithCallback.builder().name("fast_litellm_upstream_connections_opened")
                .help("Upstream connections opened since start").callback(cb -> cb.call(pool.get().created())).register(registry);
        CounterWithCallback.builder().name("fast_litellm_upstream_connections_reused")
                .help("Upstream calls that reused a pooled connection").callback(cb -> cb.call(pool.get().reused())).register(registry);
        GaugeWithCallback.builder().name("fast_litellm_deployments_in_cooldown").help("Deployments in cooldown now")
                .callback(cb -> cb.call(inCooldown.getAsInt())).register(registry);
    }

    /** One answered request. {@code deployment} may be empty when none was chosen. */
    public void request(String modelGroup, String deployment, int status, long nanos, long overheadNanos) {
        String group = modelGroup == null ? "" : modelGroup;
        String dep = deployment == null ? "" : deployment;
        requests.labelValues(group, dep, Integer.toString(status)).inc();
        duration.labelValues(group).observe(nanos / 1e9);
        if (overheadNanos >= 0) {
            overhead.observe(overheadNanos / 1e9);
        }
    }

    public void tokens(String modelGroup, long prompt, long completion) {
        String group = modelGroup == null ? "" : modelGroup;
        if (prompt > 0) {
            tokens.labelValues(group, "prompt").inc(prompt);
        }
        if (completion > 0) {
            tokens.labelValues(group, "completion").inc(completion);
        }
    }

    public void rejected(String scope) {
        rejections.labelValues(scope).inc();
    }

    public void cooledDown(String deployment) {
        cooldowns.labelValues(deployment).inc();
    }

    /** One attempt's outcome on a deployment, for the recommendations. */
    public void attempt(String deployment, boolean success) {
        LongAdder[] o = outcomes.computeIfAbsent(deployment, k -> new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()});
        o[success ? 0 : 1].increment();
    }

    /** Successes, failures and cooldowns per deployment since start. */
    public Map<String, long[]> deploymentOutcomes() {
        Map<String, long[]> out = new java.util.TreeMap<>();
        outcomes.forEach((k, v) -> out.put(k, new long[] {v[0].sum(), v[1].sum()}));
        return out;
    }

    /** Cooldowns entered per deployment since start. */
    public long cooldowns(String deployment) {
        return (long) cooldowns.labelValues(deployment).get();
    }

    public void write(OutputStream out) throws IOException {
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
    }

    /** The exposition content type. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
