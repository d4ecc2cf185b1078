package io.fastlitellm.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.RateLimiter;
import io.fastlitellm.router.Router;
import io.fastlitellm.metrics.GatewayMetrics;
import io.fastlitellm.stats.Stats;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything the request handlers share: the config, the deployments by group, providers, the
 * clock, and the counters that graceful shutdown waits on.
 *
 * <p>Concurrency: immutable after construction except {@link #inFlight} (incremented when a request
 * is accepted, decremented exactly once when its answer is fully written or the client went away)
 * and {@link #draining} (set once, when shutdown begins). Event loops read both without locks.
 */
final class ServerContext {
    final GatewayConfig config;
    final GatewayOptions options;
    final Map<String, List<DeploymentConfig>> groups;
    final Map<String, Provider> providers;
    final Tokens tokens;
    final Router router;
    final RateLimiter limiter;
    final Map<String, DeploymentConfig> deploymentsById;
    /** Each deployment's own rpm/tpm as limits, made once; absent for a deployment with neither. */
    final Map<String, Limits> deploymentLimits;
    final Map<String, Caller> virtualKeys;
    final Stats stats;
    final GatewayMetrics metrics;
    /** The keyed limiter's capacity, for the recommendations. */
    int maxLimiterKeys;
    /** The upstream pool's statistics. */
    java.util.function.Supplier<io.fastlitellm.upstream.PoolStats> upstreamStats;
    final long startedEpochSeconds = System.currentTimeMillis() / 1000;
    final ObjectMapper json = new ObjectMapper();
    final byte[] masterKey;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicBoolean draining = new AtomicBoolean();

    ServerContext(GatewayConfig config, GatewayOptions options, Map<String, Provider> providers,
                  Tokens tokens, Router router, RateLimiter limiter, Stats stats, GatewayMetrics metrics) {
        this.stats = stats;
        this.metrics = metrics;
        this.config = config;
        this.options = options;
        this.groups = config.groups();
        this.providers = providers;
        this.tokens = tokens;
        this.router = router;
        this.limiter = limiter;
        Map<String, DeploymentConfig> byId = new java.util.HashMap<>();
        config.deployments().forEach(d -> byId.put(d.id(), d));
        this.deploymentsById = Map.copyOf(byId);
        Map<String, Limits> limits = new java.util.HashMap<>();
        config.deployments().stream().filter(d -> d.rpm() != null || d.tpm() != null).forEach(d -> limits.put(d.id(),
                Limits.deployment(d.rpm() == null ? Limits.UNLIMITED : d.rpm(), d.tpm() == null ? Limits.UNLIMITED : d.tpm())));
        this.deploymentLimits = Map.copyOf(limits);
        Map<String, Caller> keys = new java.util.HashMap<>();
        config.virtualKeys().forEach(k -> keys.put(k.key(), Caller.of(k)));
        this.virtualKeys = Map.copyOf(keys);
        this.masterKey = config.masterKey() == null ? null : config.masterKey().getBytes(StandardCharsets.UTF_8);
    }

    /** The model group a client's model name resolves to, or null: a group name, then an alias. */
    String resolveGroup(String model) {
        if (groups.containsKey(model)) {
            return model;
        }
        return config.modelGroupAlias().get(model);
    }

    /** The names a client may ask for, for error messages and /v1/models. */
    List<String> servedNames() {
        List<String> names = new java.util.ArrayList<>(groups.keySet());
        for (String alias : config.modelGroupAlias().keySet()) {
            if (!groups.containsKey(alias)) {
                names.add(alias);
            }
        }
        return names;
    }
}
