package io.fastlitellm.server;

import io.fastlitellm.router.RoutingStrategy;
import io.fastlitellm.stats.Component;
import io.fastlitellm.stats.ComponentSnapshot;
import io.fastlitellm.upstream.PoolStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Advice drawn from what the gateway observed ({@code GET /stats/recommendations}); each item
 * carries the figure behind it, so an operator can judge it. Read-only over the counters.
 */
final class Recommendations {
    static final double DEPLOYMENT_ERROR_RATE = 0.05;
    static final int MIN_ATTEMPTS = 20;
    static final long COOLDOWNS = 3;
    static final long POOL_WAIT_P99_MICROS = 10_000;
    static final double CHURN = 0.2;
    static final double LIMIT_REJECTIONS = 0.1;
    static final double KEY_CAPACITY = 0.8;

    /** One piece of advice. */
    record Item(String component, String message, String figure) {
    }

    private Recommendations() {
    }

    static List<Item> compute(ServerContext sc, PoolStats pool) {
        List<Item> out = new ArrayList<>();
        if (!sc.stats.enabled()) {
            out.add(new Item("stats", "Statistics are switched off (FAST_LITELLM_STATS=false or fast_litellm_settings.stats); "
                    + "latency-based advice is unavailable.", "stats=false"));
        }
        for (Map.Entry<String, long[]> e : sc.metrics.deploymentOutcomes().entrySet()) {
            long ok = e.getValue()[0];
            long failed = e.getValue()[1];
            long attempts = ok + failed;
            if (attempts >= MIN_ATTEMPTS && (double) failed / attempts > DEPLOYMENT_ERROR_RATE) {
                out.add(new Item("router", "Deployment " + e.getKey() + " fails often: check its provider, key and quota, "
                        + "or lower its weight.", String.format(Locale.ROOT, "%.1f%% of %d attempts failed",
                        100.0 * failed / attempts, attempts)));
            }
            long cooldowns = sc.metrics.cooldowns(e.getKey());
            if (cooldowns >= COOLDOWNS) {
                out.add(new Item("router", "Deployment " + e.getKey() + " cools down often: its rpm/tpm or allowed_fails "
                        + "may be too low for the load, or it is unhealthy.", cooldowns + " cooldowns"));
            }
        }
        ComponentSnapshot poolStats = sc.stats.snapshot(Component.CONNECTION_POOL);
        if (poolStats.calls() > 0 && poolStats.p99Micros() > POOL_WAIT_P99_MICROS) {
            out.add(new Item("connection_pool", "Requests wait for upstream connections: raise the per-endpoint maximum "
                    + "or add deployments.", "p99 wait " + poolStats.p99Micros() / 1000 + " ms"));
        }
        long calls = pool.created() + pool.reused();
        if (calls >= 100 && (double) pool.created() / calls > CHURN) {
            out.add(new Item("connection_pool", "Upstream connections are rarely reused (connection churn): check that "
                    + "upstreams keep connections alive and that connection pooling is on.",
                    String.format(Locale.ROOT, "%d of %d calls opened a new connection", pool.created(), calls)));
        }
        ComponentSnapshot limits = sc.stats.snapshot(Component.RATE_LIMITER);
        if (limits.calls() >= MIN_ATTEMPTS && limits.errorRate() > LIMIT_REJECTIONS) {
            out.add(new Item("rate_limiter", "Rate limits refuse a large share of requests: raise the keys' limits or "
                    + "spread the load over more keys.", String.format(Locale.ROOT, "%.1f%% of %d checks refused",
                    100 * limits.errorRate(), limits.calls())));
        }
        if (sc.router.settings().routingStrategy() == RoutingStrategy.LATENCY_BASED_ROUTING) {
            long unmeasured = sc.router.deployments().stream()
                    .filter(d -> sc.metrics.deploymentOutcomes().getOrDefault(d.id(), new long[2])[0] == 0).count();
            if (unmeasured > 0) {
                out.add(new Item("router", "latency-based-routing has no latency data for some deployments yet; until "
                        + "they serve, it explores them first. With little traffic, simple-shuffle fits better.",
                        unmeasured + " of " + sc.router.deployments().size() + " deployments unmeasured"));
            }
        }
        int keys = sc.limiter.keys().size();
        if (sc.maxLimiterKeys > 0 && keys > KEY_CAPACITY * sc.maxLimiterKeys) {
            out.add(new Item("rate_limiter", "The keyed limiter is near its capacity; idle keys are evicted, but a larger "
                    + "maximum avoids refusing new keys.", keys + " of " + sc.maxLimiterKeys + " keys"));
        }
        return out;
    }
}
