package io.fastlitellm.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.provider.TextTokenCounter;
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
    final TextTokenCounter tokens;
    final PromptTokens promptTokens;
    final long startedEpochSeconds = System.currentTimeMillis() / 1000;
    final ObjectMapper json = new ObjectMapper();
    final byte[] masterKey;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicBoolean draining = new AtomicBoolean();

    ServerContext(GatewayConfig config, GatewayOptions options, Map<String, Provider> providers,
                  TextTokenCounter tokens, PromptTokens promptTokens) {
        this.config = config;
        this.options = options;
        this.groups = config.groups();
        this.providers = providers;
        this.tokens = tokens;
        this.promptTokens = promptTokens;
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
