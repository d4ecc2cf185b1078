package io.fastlitellm.stats;

import java.util.Locale;

/** The parts of a request that {@link Stats} measures separately. */
public enum Component {
    /** Counting a request's prompt tokens. Input size: prompt tokens. */
    TOKENIZER,
    /** Checking a request's key limits. Errors: requests refused by a limit. */
    RATE_LIMITER,
    /** Choosing a deployment (one selection per attempt). Errors: no deployment available. */
    ROUTER,
    /** Waiting for an upstream connection. */
    CONNECTION_POOL,
    /** One provider call, from send to the end of its answer. Input/output: prompt/completion tokens. */
    UPSTREAM,
    /** A whole request, accept to last byte. Input/output: request/response body bytes. */
    REQUEST;

    /** The name used in JSON, CSV and {@code ?component=}: lower case with underscores. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The component named {@code key}, or null. */
    public static Component fromKey(String key) {
        for (Component c : values()) {
            if (c.key().equals(key)) {
                return c;
            }
        }
        return null;
    }
}
