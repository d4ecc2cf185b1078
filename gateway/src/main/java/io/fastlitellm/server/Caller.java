package io.fastlitellm.server;

import io.fastlitellm.config.VirtualKeyConfig;
import io.fastlitellm.ratelimit.Limits;

/**
 * Who sent a request: anyone (no keys configured), the master key (unlimited, every model), or a
 * virtual key (its models, its limits).
 */
record Caller(VirtualKeyConfig key, Limits limits) {
    static final Caller OPEN = new Caller(null, null);
    static final Caller MASTER = new Caller(null, null);

    static Caller of(VirtualKeyConfig key) {
        boolean limited = key.rpmLimit() >= 0 || key.tpmLimit() >= 0 || key.maxParallelRequests() >= 0;
        return new Caller(key, limited ? Limits.key(key.rpmLimit(), key.tpmLimit(), key.maxParallelRequests()) : null);
    }

    String name() {
        return key == null ? "master key" : key.displayName();
    }

    /** The limiter's id for this key: the key itself (never shown to anyone). */
    String limitKey() {
        return key.key();
    }

    /** A virtual key may only use its {@code models}: 401 otherwise, as LiteLLM answers. */
    void checkModel(String model, ServerContext sc) {
        if (key == null || key.models().isEmpty() || key.models().contains(model) || key.models().contains("*")) {
            return;
        }
        String group = sc.resolveGroup(model);
        if (group != null && key.models().contains(group)) {
            return;
        }
        for (String allowed : key.models()) {
            if (allowed.endsWith("/*") && model.startsWith(allowed.substring(0, allowed.length() - 1))) {
                return;
            }
        }
        throw new ApiError(401, "key_model_access_denied", "key " + name() + " is not allowed to use model=" + model
                + ". Allowed models: " + String.join(", ", key.models()), "model");
    }
}
