package io.fastlitellm.ratelimit;

/**
 * The token-bucket arithmetic every bucket here shares, as GCRA (generic cell rate algorithm): a
 * bucket is one {@code long}, its theoretical arrival time {@code tat}. The bucket's debt is
 * {@code max(0, tat - now)}; it is empty when the debt reaches the capacity. Taking {@code n} units
 * adds {@code n * interval} to the debt, refill is the clock moving on. Any {@code tat <= now} means
 * "full", so a fresh bucket, an idle bucket and an evicted one are the same state, and a Redis
 * script needs one number a limit.
 *
 * <p>{@code interval = ceil(period / limit)} and {@code capacity = limit * interval}: rounding up
 * makes the refill never faster than {@code limit} per period while the burst stays exactly
 * {@code limit}.
 */
final class Gcra {

    /** Debt never grows beyond this (73 years), so forced charges cannot overflow {@code tat}. */
    static final long MAX_DEBT_NANOS = 1L << 61;

    /** What {@link #consume} answers when the units exceed the limit: no wait will ever do. */
    static final long NEVER = Long.MIN_VALUE;

    private Gcra() {
    }

    static long interval(long periodNanos, long limit) {
        return limit <= 0 ? 0 : Math.max(1, Math.ceilDiv(periodNanos, limit));
    }

    static long capacity(long intervalNanos, long limit) {
        return limit <= 0 ? 0 : Math.multiplyExact(intervalNanos, limit);
    }

    /** {@code units * interval}, saturated at {@link #MAX_DEBT_NANOS}. */
    static long cost(long units, long intervalNanos) {
        if (units <= 0) {
            return 0;
        }
        if (units > MAX_DEBT_NANOS / Math.max(1, intervalNanos)) {
            return MAX_DEBT_NANOS;
        }
        return units * intervalNanos;
    }

    /**
     * The {@code tat} after taking {@code cost}, if it fits the capacity. Callers check with
     * {@link #fits}; kept apart so that a CAS loop computes it once.
     */
    static long taken(long tat, long now, long cost) {
        return Math.max(tat, now) + cost;
    }

    static boolean fits(long newTat, long now, long capacityNanos) {
        return newTat - now <= capacityNanos;
    }

    /** Nanoseconds until {@code newTat} would fit: how long the caller must wait. Always > 0. */
    static long wait(long newTat, long now, long capacityNanos) {
        return newTat - now - capacityNanos;
    }

    /** Whole units left in the bucket at {@code now}. */
    static long remaining(long tat, long now, long intervalNanos, long capacityNanos) {
        long debt = Math.max(tat, now) - now; // tat may be Long.MIN_VALUE: never subtract first
        return debt >= capacityNanos ? 0 : (capacityNanos - debt) / intervalNanos;
    }

    /** Puts {@code cost} back: the debt shrinks, never below zero (a bucket holds at most its capacity). */
    static long refunded(long tat, long now, long cost) {
        return Math.max(Math.max(tat, now) - cost, now);
    }

    /** Takes {@code cost} whether it fits or not (usage that already happened), capped at {@link #MAX_DEBT_NANOS}. */
    static long charged(long tat, long now, long cost) {
        long base = Math.max(tat, now);
        return base - now >= MAX_DEBT_NANOS - cost ? now + MAX_DEBT_NANOS : base + cost;
    }
}
