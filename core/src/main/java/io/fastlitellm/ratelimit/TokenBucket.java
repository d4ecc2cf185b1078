package io.fastlitellm.ratelimit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket over any unit: holds at most {@code limit}, starts full, refills continuously at
 * {@code limit} per {@code period} (one unit every {@code ceil(period / limit)} ns). So 600 tokens per
 * minute allow 600 at once and then 10 a second; over any stretch of time {@code d} it admits at most
 * {@code limit + d * limit / period}, and never a unit while empty.
 *
 * <p>Concurrency: the whole state is one {@code long} (GCRA's theoretical arrival time, see
 * {@link Gcra}) changed only by compare-and-set, so every operation is lock-free and linearizable.
 *
 * <p>Refunds put units back into the bucket, never above its capacity, whenever they come: a refund
 * is a deposit, the way an over-estimated reservation would have been had it been exact.
 */
public final class TokenBucket implements RateLimit {

    private final long limit;
    private final long interval;
    private final long capacity;
    private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE);

    public TokenBucket(long limit, Duration period) {
        Args.nonNegative("limit", limit);
        long periodNanos = Args.periodNanos(period);
        this.limit = limit;
        this.interval = Gcra.interval(periodNanos, limit);
        this.capacity = Gcra.capacity(interval, limit);
    }

    @Override
    public long tryAcquire(long permits, long nowNanos) {
        long trivial = Args.trivially(permits, limit);
        if (trivial != Args.PROCEED) {
            return trivial;
        }
        long cost = permits * interval;
        for (;;) {
            long current = tat.get();
            long next = Gcra.taken(current, nowNanos, cost);
            if (!Gcra.fits(next, nowNanos, capacity)) {
                return Gcra.wait(next, nowNanos, capacity);
            }
            if (tat.compareAndSet(current, next)) {
                return 0;
            }
        }
    }

    @Override
    public void refund(long permits, long acquiredAtNanos, long nowNanos) {
        long cost = Gcra.cost(permits, interval);
        tat.updateAndGet(current -> Gcra.refunded(current, nowNanos, cost));
    }

    /** Takes {@code permits} even beyond what is left: usage that already happened. Later calls wait it off. */
    public void charge(long permits, long nowNanos) {
        long cost = Gcra.cost(permits, interval);
        tat.updateAndGet(current -> Gcra.charged(current, nowNanos, cost));
    }

    @Override
    public long available(long nowNanos) {
        return limit == 0 ? 0 : Gcra.remaining(tat.get(), nowNanos, interval, capacity);
    }

    @Override
    public long limit() {
        return limit;
    }
}
