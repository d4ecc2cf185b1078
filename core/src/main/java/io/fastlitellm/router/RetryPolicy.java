package io.fastlitellm.router;

import java.util.EnumMap;
import java.util.Map;

/**
 * LiteLLM's {@code retry_policy}: retries per error class, overriding {@code num_retries}. Field
 * names as in config.yaml: {@code BadRequestErrorRetries}, {@code AuthenticationErrorRetries},
 * {@code TimeoutErrorRetries}, {@code RateLimitErrorRetries},
 * {@code ContentPolicyViolationErrorRetries}, {@code InternalServerErrorRetries}. As in LiteLLM, where
 * {@code ContextWindowExceededError} and {@code ContentPolicyViolationError} subclass
 * {@code BadRequestError}, {@code BadRequestErrorRetries} also applies to context-window and
 * content-policy errors unless their own field is set (a 404 is never retried either way).
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
        Integer badRequest = null;
        if (config != null) {
            for (Map.Entry<String, ? extends Number> e : config.entrySet()) {
                Number n = e.getValue();
                if (n == null || n.intValue() < 0 || n.doubleValue() != n.intValue()) {
                    throw new IllegalArgumentException("retry_policy." + e.getKey() + ": " + n + " (expected: an integer >= 0)");
                }
                int v = n.intValue();
                switch (e.getKey()) {
                    case "BadRequestErrorRetries" -> badRequest = v;
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
        if (badRequest != null) {
            // the subclasses' own fields win, whatever order the map gives the keys in
            for (ErrorClass c : new ErrorClass[] {ErrorClass.BAD_REQUEST, ErrorClass.CONTEXT_WINDOW_EXCEEDED,
                    ErrorClass.CONTENT_POLICY, ErrorClass.NOT_FOUND}) {
                m.putIfAbsent(c, badRequest);
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
