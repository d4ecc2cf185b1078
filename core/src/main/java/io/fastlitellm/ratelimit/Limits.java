package io.fastlitellm.ratelimit;

import java.time.Duration;

/**
 * The limits of one key or one deployment: requests per period, tokens per period, requests in
 * flight. Immutable and shared: build it once from configuration, pass it to every check.
 *
 * <p>Requests and tokens are token buckets (GCRA, {@link Gcra}): a bucket holds at most the limit,
 * starts full, and refills continuously at limit per period, one unit every
 * {@code ceil(period / limit)} nanoseconds (rounded up, so the refill is never faster than the
 * configured rate). "60 rpm" therefore means: a burst of up to 60 at once, then one more each
 * second. Any limit may be {@link #UNLIMITED}; a limit of 0 denies everything.
 *
 * <p>The names ({@code "key rpm_limit"}, {@code "deployment tpm"}, ...) are what a denial reports
 * as the limit that was hit, so a gateway can put them into its 429 message as they are.
 */
public final class Limits {

    /** A limit that does not apply. */
    public static final long UNLIMITED = -1;

    /** The period LiteLLM's rpm/tpm limits are counted over. */
    public static final Duration MINUTE = Duration.ofMinutes(1);

    final long requests;
    final long tokens;
    final long maxParallel;
    final long periodNanos;
    final long requestIntervalNanos;
    final long requestCapacityNanos;
    final long tokenIntervalNanos;
    final long tokenCapacityNanos;
    final String requestName;
    final String tokenName;
    final String parallelName;

    private Limits(long requests, long tokens, long maxParallel, Duration period,
                   String requestName, String tokenName, String parallelName) {
        this.requests = check("requests", requests);
        this.tokens = check("tokens", tokens);
        this.maxParallel = check("maxParallel", maxParallel);
        if (maxParallel > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxParallel: " + maxParallel + " (expected: <= " + Integer.MAX_VALUE
                    + ", or Limits.UNLIMITED)");
        }
        this.periodNanos = Args.periodNanos(period);
        this.requestIntervalNanos = Gcra.interval(periodNanos, requests);
        this.requestCapacityNanos = Gcra.capacity(requestIntervalNanos, requests);
        this.tokenIntervalNanos = Gcra.interval(periodNanos, tokens);
        this.tokenCapacityNanos = Gcra.capacity(tokenIntervalNanos, tokens);
        this.requestName = requestName;
        this.tokenName = tokenName;
        this.parallelName = parallelName;
    }

    private static long check(String what, long value) {
        if (value < UNLIMITED) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: >= 0, or Limits.UNLIMITED)");
        }
        return value;
    }

    /**
     * A virtual key's limits as LiteLLM's {@code /key/generate} names them: {@code rpm_limit},
     * {@code tpm_limit}, {@code max_parallel_requests}, per minute. Pass {@link #UNLIMITED} for a
     * field the key does not set.
     */
    public static Limits key(long rpmLimit, long tpmLimit, long maxParallelRequests) {
        return new Limits(rpmLimit, tpmLimit, maxParallelRequests, MINUTE,
                "key rpm_limit", "key tpm_limit", "key max_parallel_requests");
    }

    /** A deployment's {@code litellm_params.rpm} and {@code tpm}, per minute. */
    public static Limits deployment(long rpm, long tpm) {
        return new Limits(rpm, tpm, UNLIMITED, MINUTE, "deployment rpm", "deployment tpm",
                "deployment max_parallel_requests");
    }

    /**
     * Any limits over any period; {@code scope} prefixes the names a denial reports
     * ({@code scope + " requests"}, {@code " tokens"}, {@code " parallel"}).
     */
    public static Limits of(String scope, long requests, long tokens, long maxParallel, Duration period) {
        if (scope == null || scope.isBlank()) {
            throw new IllegalArgumentException("scope: '" + scope + "' (expected: a name such as \"team\")");
        }
        return new Limits(requests, tokens, maxParallel, period,
                scope + " requests", scope + " tokens", scope + " parallel");
    }

    public long requests() { return requests; }

    public long tokens() { return tokens; }

    public long maxParallel() { return maxParallel; }

    public Duration period() { return Duration.ofNanos(periodNanos); }

    /** True when no limit applies at all, so a check can be skipped. */
    public boolean isUnlimited() {
        return requests == UNLIMITED && tokens == UNLIMITED && maxParallel == UNLIMITED;
    }

    @Override
    public String toString() {
        return "Limits[" + requestName + "=" + requests + ", " + tokenName + "=" + tokens + ", "
                + parallelName + "=" + maxParallel + ", period=" + period() + "]";
    }
}
