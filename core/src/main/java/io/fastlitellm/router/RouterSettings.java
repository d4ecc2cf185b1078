package io.fastlitellm.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LiteLLM's {@code router_settings} (and the fallback lists of {@code litellm_settings}) that the
 * router acts on. Immutable; build with {@link #builder()}; defaults are LiteLLM's.
 */
public final class RouterSettings {
    /** At most this many fallback groups are tried per request (LiteLLM's {@code max_fallbacks}). */
    public static final int DEFAULT_MAX_FALLBACKS = 5;

    private final RoutingStrategy routingStrategy;
    private final int numRetries;
    private final int allowedFails;
    private final Duration cooldownTime;
    private final RetryPolicy retryPolicy;
    private final Map<String, String> modelGroupAlias;
    private final Map<String, List<String>> fallbacks;
    private final Map<String, List<String>> contextWindowFallbacks;
    private final Map<String, List<String>> contentPolicyFallbacks;
    private final boolean enablePreCallChecks;
    private final boolean enableTagFiltering;
    private final double lowestLatencyBuffer;
    private final int maxFallbacks;
    private final boolean disableCooldowns;

    private RouterSettings(Builder b) {
        this.routingStrategy = b.routingStrategy;
        this.numRetries = b.numRetries;
        this.allowedFails = b.allowedFails;
        this.cooldownTime = b.cooldownTime;
        this.retryPolicy = b.retryPolicy;
        this.modelGroupAlias = Map.copyOf(b.modelGroupAlias);
        this.fallbacks = copy(b.fallbacks);
        this.contextWindowFallbacks = copy(b.contextWindowFallbacks);
        this.contentPolicyFallbacks = copy(b.contentPolicyFallbacks);
        this.enablePreCallChecks = b.enablePreCallChecks;
        this.enableTagFiltering = b.enableTagFiltering;
        this.lowestLatencyBuffer = b.lowestLatencyBuffer;
        this.maxFallbacks = b.maxFallbacks;
        this.disableCooldowns = b.disableCooldowns;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> m) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return java.util.Collections.unmodifiableMap(out);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static RouterSettings defaults() {
        return builder().build();
    }

    public RoutingStrategy routingStrategy() { return routingStrategy; }
    public int numRetries() { return numRetries; }
    /** {@code allowed_fails}, or -1 when not configured (then LiteLLM's default rules cool down, see {@code Router}). */
    public int allowedFails() { return allowedFails; }
    public Duration cooldownTime() { return cooldownTime; }
    public RetryPolicy retryPolicy() { return retryPolicy; }
    public Map<String, String> modelGroupAlias() { return modelGroupAlias; }
    public Map<String, List<String>> fallbacks() { return fallbacks; }
    public Map<String, List<String>> contextWindowFallbacks() { return contextWindowFallbacks; }
    public Map<String, List<String>> contentPolicyFallbacks() { return contentPolicyFallbacks; }
    public boolean enablePreCallChecks() { return enablePreCallChecks; }
    public boolean enableTagFiltering() { return enableTagFiltering; }
    public double lowestLatencyBuffer() { return lowestLatencyBuffer; }
    public int maxFallbacks() { return maxFallbacks; }
    public boolean disableCooldowns() { return disableCooldowns; }

    /** Builder; {@link #build()} rejects bad values with a message naming the setting and what is expected. */
    public static final class Builder {
        private RoutingStrategy routingStrategy = RoutingStrategy.SIMPLE_SHUFFLE;
        private int numRetries = 2;
        private int allowedFails = -1;
        private Duration cooldownTime = Duration.ofSeconds(5);
        private RetryPolicy retryPolicy = RetryPolicy.NONE;
        private final Map<String, String> modelGroupAlias = new LinkedHashMap<>();
        private final Map<String, List<String>> fallbacks = new LinkedHashMap<>();
        private final Map<String, List<String>> contextWindowFallbacks = new LinkedHashMap<>();
        private final Map<String, List<String>> contentPolicyFallbacks = new LinkedHashMap<>();
        private boolean enablePreCallChecks;
        private boolean enableTagFiltering;
        private double lowestLatencyBuffer;
        private int maxFallbacks = DEFAULT_MAX_FALLBACKS;
        private boolean disableCooldowns;

        private Builder() {
        }

        public Builder routingStrategy(RoutingStrategy s) { this.routingStrategy = s; return this; }
        public Builder numRetries(int n) { this.numRetries = n; return this; }
        public Builder allowedFails(int n) { this.allowedFails = n; return this; }
        public Builder cooldownTime(Duration d) { this.cooldownTime = d; return this; }
        public Builder retryPolicy(RetryPolicy p) { this.retryPolicy = p; return this; }
        public Builder modelGroupAlias(String alias, String group) { this.modelGroupAlias.put(alias, group); return this; }
        /** {@code fallbacks: [{group: [a, b]}]}; group {@code "*"} is the default for every group. */
        public Builder fallbacks(String group, List<String> to) { this.fallbacks.put(group, to); return this; }
        public Builder contextWindowFallbacks(String group, List<String> to) { this.contextWindowFallbacks.put(group, to); return this; }
        public Builder contentPolicyFallbacks(String group, List<String> to) { this.contentPolicyFallbacks.put(group, to); return this; }
        public Builder enablePreCallChecks(boolean b) { this.enablePreCallChecks = b; return this; }
        public Builder enableTagFiltering(boolean b) { this.enableTagFiltering = b; return this; }
        public Builder lowestLatencyBuffer(double b) { this.lowestLatencyBuffer = b; return this; }
        public Builder maxFallbacks(int n) { this.maxFallbacks = n; return this; }
        public Builder disableCooldowns(boolean b) { this.disableCooldowns = b; return this; }

        public RouterSettings build() {
            List<String> errors = new ArrayList<>();
            if (routingStrategy == null) errors.add("routing_strategy: null (expected: one of simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing)");
            if (numRetries < 0) errors.add("num_retries: " + numRetries + " (expected: >= 0)");
            if (allowedFails < -1) errors.add("allowed_fails: " + allowedFails + " (expected: >= 0)");
            if (cooldownTime == null || cooldownTime.isNegative()) errors.add("cooldown_time: " + (cooldownTime == null ? "null" : cooldownTime.toMillis() / 1000.0) + " (expected: >= 0 seconds)");
            if (retryPolicy == null) errors.add("retry_policy: null (expected: a retry policy)");
            if (!(lowestLatencyBuffer >= 0) || Double.isInfinite(lowestLatencyBuffer)) errors.add("lowest_latency_buffer: " + lowestLatencyBuffer + " (expected: >= 0)");
            if (maxFallbacks < 0) errors.add("max_fallbacks: " + maxFallbacks + " (expected: >= 0)");
            modelGroupAlias.forEach((k, v) -> {
                if (k == null || k.isBlank() || v == null || v.isBlank()) errors.add("model_group_alias." + k + ": " + v + " (expected: a non-empty model group name)");
            });
            checkFallbacks("fallbacks", fallbacks, errors);
            checkFallbacks("context_window_fallbacks", contextWindowFallbacks, errors);
            checkFallbacks("content_policy_fallbacks", contentPolicyFallbacks, errors);
            if (!errors.isEmpty()) throw new IllegalArgumentException(String.join("; ", errors));
            return new RouterSettings(this);
        }

        private static void checkFallbacks(String name, Map<String, List<String>> m, List<String> errors) {
            m.forEach((k, v) -> {
                if (k == null || k.isBlank()) errors.add(name + ": empty model group name (expected: {group: [fallback, ...]})");
                else if (v == null) errors.add(name + "." + k + ": null (expected: a list of model groups)");
                else for (int i = 0; i < v.size(); i++) {
                    if (v.get(i) == null || v.get(i).isBlank()) errors.add(name + "." + k + "[" + i + "]: " + v.get(i) + " (expected: a model group name)");
                }
            });
        }
    }
}
