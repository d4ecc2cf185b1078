package io.fastlitellm.config;

import java.util.List;
import java.util.Map;

/**
 * One entry of the top-level {@code virtual_keys:} list, with the fields of LiteLLM's
 * {@code /key/generate} body: a key clients present, what it may use, and its limits.
 *
 * @param key the secret clients send (must start with {@code sk-})
 * @param alias {@code key_alias}, shown in messages instead of the key, or null
 * @param models model groups (or aliases) the key may use; empty means all
 * @param rpmLimit requests per minute, or -1 for none
 * @param tpmLimit tokens per minute, or -1 for none
 * @param maxParallelRequests requests in flight at once, or -1 for none
 * @param metadata free-form metadata, kept
 */
public record VirtualKeyConfig(String key, String alias, List<String> models, long rpmLimit, long tpmLimit,
                               long maxParallelRequests, Map<String, Object> metadata) {

    /** How messages name this key: its alias, else a redacted form. */
    public String displayName() {
        return alias != null ? alias : key.substring(0, Math.min(6, key.length())) + "..." + key.substring(Math.max(0, key.length() - 4));
    }
}
