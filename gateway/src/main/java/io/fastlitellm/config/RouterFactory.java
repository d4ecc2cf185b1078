package io.fastlitellm.config;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.RetryPolicy;
import io.fastlitellm.router.Router;
import io.fastlitellm.router.RouterSettings;
import io.fastlitellm.router.RoutingStrategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Builds the core {@link Router} from a LiteLLM config: deployments from {@code model_list},
 * settings from {@code router_settings} (fallbacks may also sit in {@code litellm_settings}, as
 * LiteLLM allows; {@code router_settings} wins). Errors name the file and the path.
 */
public final class RouterFactory {
    private RouterFactory() {
    }

    public static Router build(GatewayConfig config, LongSupplier nanoTime, RandomGenerator random) {
        return build(config, nanoTime, random, null);
    }

    /** As above, with the router's state in {@code stateStore}'s store (shared state: Redis); null: in memory. */
    public static Router build(GatewayConfig config, LongSupplier nanoTime, RandomGenerator random,
                               java.util.function.Function<List<Deployment>, io.fastlitellm.router.DeploymentStateStore> stateStore) {
        List<Deployment> deployments = new ArrayList<>(config.deployments().size());
        for (DeploymentConfig d : config.deployments()) {
            deployments.add(deployment(d));
        }
        Router.Builder b = Router.builder(deployments, settings(config)).nanoTime(nanoTime).random(random);
        if (stateStore != null) {
            b.stateStore(stateStore);
        }
        return b.build();
    }

    static Deployment deployment(DeploymentConfig d) {
        Deployment.Builder b = Deployment.builder()
                .id(d.id())
                .modelName(d.modelName())
                .model(d.model())
                .apiBase(d.apiBase())
                .tags(d.tags())
                .litellmParams(d.litellmParams());
        if (d.weight() != null) {
            b.weight(d.weight());
        }
        if (d.rpm() != null) {
            b.rpm(d.rpm());
        }
        if (d.tpm() != null) {
            b.tpm(d.tpm());
        }
        if (d.order() != null) {
            b.order(d.order());
        }
        if (d.modelInfo().get("max_input_tokens") instanceof Number n) {
            b.maxInputTokens(n.longValue());
        }
        if (d.litellmParams().get("input_cost_per_token") instanceof Number n) {
            b.inputCostPerToken(n.doubleValue());
        }
        if (d.litellmParams().get("output_cost_per_token") instanceof Number n) {
            b.outputCostPerToken(n.doubleValue());
        }
        if (d.litellmParams().get("cooldown_time") instanceof Number n) {
            b.cooldownTime(Duration.ofMillis((long) (n.doubleValue() * 1000)));
        }
        return b.build();
    }

    static RouterSettings settings(GatewayConfig config) {
        ConfigNode r = config.routerSettings();
        ConfigNode l = config.litellmSettings();
        RouterSettings.Builder b = RouterSettings.builder();
        String strategy = r.get("routing_strategy").string(null);
        if (strategy != null && config.switches().routing()) {
            b.routingStrategy(RoutingStrategy.fromConfigName(strategy));
        }
        Long retries = r.get("num_retries").optionalLong(0);
        if (retries == null) {
            retries = l.get("num_retries").optionalLong(0);
        }
        if (retries != null) {
            b.numRetries(retries.intValue());
        }
        Long allowedFails = r.get("allowed_fails").optionalLong(0);
        if (allowedFails != null) {
            b.allowedFails(allowedFails.intValue());
        }
        Double cooldown = r.get("cooldown_time").optionalDouble(0, Double.MAX_VALUE);
        if (cooldown != null) {
            b.cooldownTime(Duration.ofMillis((long) (cooldown * 1000)));
        }
        Long maxFallbacks = r.get("max_fallbacks").optionalLong(0);
        if (maxFallbacks != null) {
            b.maxFallbacks(maxFallbacks.intValue());
        }
        Boolean preCall = r.get("enable_pre_call_checks").optionalBoolean();
        if (preCall != null) {
            b.enablePreCallChecks(preCall);
        }
        Boolean tags = r.get("enable_tag_filtering").optionalBoolean();
        if (tags != null) {
            b.enableTagFiltering(tags);
        }
        Boolean disableCooldowns = r.get("disable_cooldowns").optionalBoolean();
        if (disableCooldowns != null) {
            b.disableCooldowns(disableCooldowns);
        }
        Double buffer = r.get("routing_strategy_args").get("lowest_latency_buffer").optionalDouble(0, Double.MAX_VALUE);
        if (buffer == null) {
            buffer = r.get("lowest_latency_buffer").optionalDouble(0, Double.MAX_VALUE);
        }
        if (buffer != null) {
            b.lowestLatencyBuffer(buffer);
        }
        config.modelGroupAlias().forEach(b::modelGroupAlias);
        ConfigNode policy = r.get("retry_policy");
        if (!policy.isMissing()) {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (Map.Entry<String, ConfigNode> e : policy.entries()) {
                counts.put(e.getKey(), e.getValue().optionalLong(0));
            }
            try {
                b.retryPolicy(RetryPolicy.fromConfig(counts));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(config.source() + ": router_settings." + e.getMessage());
            }
        }
        fallbacks(pick(r, l, "fallbacks"), b::fallbacks);
        fallbacks(pick(r, l, "context_window_fallbacks"), b::contextWindowFallbacks);
        fallbacks(pick(r, l, "content_policy_fallbacks"), b::contentPolicyFallbacks);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(config.source() + ": router_settings: " + e.getMessage());
        }
    }

    private static ConfigNode pick(ConfigNode router, ConfigNode litellm, String key) {
        return router.has(key) ? router.get(key) : litellm.get(key);
    }

    /** {@code [{group: [fallback, ...]}, ...]}, LiteLLM's shape; a single string is a list of one. */
    private static void fallbacks(ConfigNode list, java.util.function.BiConsumer<String, List<String>> into) {
        for (ConfigNode entry : list.elements()) {
            for (Map.Entry<String, ConfigNode> e : entry.entries()) {
                into.accept(e.getKey(), e.getValue().stringList());
            }
        }
    }
}
