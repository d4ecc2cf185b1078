package io.fastlitellm.ratelimit;

import java.time.Duration;

/** Argument checks shared by the limits, with one message shape: {@code "what: value (expected: ...)"}. */
final class Args {

    /** {@link #trivially}'s answer when the call has real work to do. */
    static final long PROCEED = Long.MIN_VALUE;

    private Args() {
    }

    static long nonNegative(String what, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: >= 0)");
        }
        return value;
    }

    static long periodNanos(Duration period) {
        if (period == null || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("period: " + period + " (expected: > 0)");
        }
        return period.toNanos();
    }

    /** A {@link RateLimit#tryAcquire} answer that needs no state: 0 for no permits, NEVER beyond the limit; else {@link #PROCEED}. */
    static long trivially(long permits, long limit) {
        nonNegative("permits", permits);
        if (permits == 0) {
            return 0;
        }
        return permits > limit ? RateLimit.NEVER : PROCEED;
    }
}
