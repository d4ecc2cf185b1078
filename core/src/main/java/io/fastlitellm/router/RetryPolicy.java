package io.fastlitellm.router;

import java.util.EnumMap;
import java.util.Map;

/**
 * LiteLLM's {@code retry_policy}: retries per error class, overriding {@code num_retries}. Field
 * names as in config.yaml: {@code BadRequestErrorRetries}, {@code AuthenticationErrorRetries},
 * {@code TimeoutErrorRetries}, {@code RateLimitErrorRetries},
 * {@code ContentPolicyViolationErrorRetries}, {@code InternalServerErrorRetries}. As in LiteLLM, a
 * context-window error counts as a bad request and a 404 as a bad request (and is never retried).
 */
public final class RetryPolicy {
    private final Map<ErrorClass, Integer> retries;

    private RetryPolicy(Map<ErrorClass, Integer> retries) {
        this.retries = retries;
    }

    public static final RetryPolicy NONE = new RetryPolicy(new EnumMap<>(ErrorClass.class));

    /**
     * From config.yaml's map, e.g. {@code {RateLimitErrorRetries: 3}}; an unknown field or a negative
     * count is an error naming it.
     */
    public static RetryPolicy fromConfig(Map<String, ? extends Number> config) {
        EnumMap<ErrorClass, Integer> m = new EnumMap<>(ErrorClass.class);
        if (config != null) {
            for (Map.Entry<String, ? extends Number> e : config.entrySet()) {
                Number n = e.getValue();
                if (n == null || n.intValue() < 0 || n.doubleValue() != n.intValue()) {
                    throw new IllegalArgumentException("retry_policy." + e.getKey() + ": " + n + " (expected: an integer >= 0)");
                }
                int v = n.intValue();
                switch (e.getKey()) {
                    case "BadRequestErrorRetries" -> {
                        m.put(ErrorClass.BAD_REQUEST, v);
                        m.put(ErrorClass.CONTEXT_WINDOW_EXCEEDED, v);
                        m.put(ErrorClass.NOT_FOUND, v);
                    }
                    case "AuthenticationErrorRetries" -> m.put(ErrorClass.AUTHENTICATION, v);
                    case "TimeoutErrorRetries" -> m.put(ErrorClass.TIMEOUT, v);
                    case "RateLimitErrorRetries" -> m.put(ErrorClass.RATE_LIMIT, v);
                    case "ContentPolicyViolationErrorRetries" -> m.put(ErrorClass.CONTENT_POLICY, v);
                    case "InternalServerErrorRetries" -> m.put(ErrorClass.SERVER_ERROR, v);
                    default -> throw new IllegalArgumentException("retry_policy." + e.getKey()
                            + ": unknown field (expected one of: BadRequestErrorRetries, AuthenticationErrorRetries, "
                            + "TimeoutErrorRetries, RateLimitErrorRetries, ContentPolicyViolationErrorRetries, "
                            + "InternalServerErrorRetries)");
                }
            }
        }
        return new RetryPolicy(m);
    }

    /** Retries for this class, or {@code defaultRetries} ({@code num_retries}) when the policy does not say. */
    public int retriesFor(ErrorClass errorClass, int defaultRetries) {
        Integer v = retries.get(errorClass);
        return v == null ? defaultRetries : v;
    }
}
