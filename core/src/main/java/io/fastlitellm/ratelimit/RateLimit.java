package io.fastlitellm.ratelimit;

/**
 * One limit over some unit (requests, tokens): {@link TokenBucket} or {@link SlidingWindow}. The
 * caller passes the time; nothing here reads a clock.
 *
 * <p>Every implementation promises: {@link #tryAcquire} either takes all the permits or none, and
 * never admits beyond what its documented semantics allow, however many threads call it.
 */
public interface RateLimit {

    /** {@link #tryAcquire}'s answer when the permits exceed the limit itself: waiting will not help. */
    long NEVER = -1;

    /**
     * Takes {@code permits} if they fit at {@code nowNanos}.
     *
     * @return 0 when taken; otherwise the nanoseconds after which the same call could succeed
     *     (> 0, assuming no one else takes anything meanwhile), or {@link #NEVER}
     */
    long tryAcquire(long permits, long nowNanos);

    /**
     * Gives back {@code permits} that {@link #tryAcquire} took at {@code acquiredAtNanos}: a rollback
     * or an over-estimate. Each implementation says what a late refund still returns.
     */
    void refund(long permits, long acquiredAtNanos, long nowNanos);

    /** Permits that {@link #tryAcquire} would grant at {@code nowNanos}. */
    long available(long nowNanos);

    /** The configured limit per period. */
    long limit();

    /**
     * Takes {@code permits[i]} from {@code limits[i]} for every {@code i}, or from none of them: a
     * limit that refuses rolls back the ones taken before it. Under contention a concurrent caller
     * may see a permit that is about to be rolled back and be refused: the rollback makes such
     * errors conservative, never an admission over a limit.
     *
     * @return {@code -1} when all were taken, else the index of the first limit that refused
     *     (whose own {@code tryAcquire} answer the caller can ask for with {@link #available} or retry)
     */
    static int tryAcquireAll(RateLimit[] limits, long[] permits, long nowNanos) {
        if (limits.length != permits.length) {
            throw new IllegalArgumentException("permits: " + permits.length
                    + " entries (expected: one per limit, " + limits.length + ")");
        }
        for (int i = 0; i < limits.length; i++) {
            if (limits[i].tryAcquire(permits[i], nowNanos) != 0) {
                for (int j = i - 1; j >= 0; j--) {
                    limits[j].refund(permits[j], nowNanos, nowNanos);
                }
                return i;
            }
        }
        return -1;
    }
}
