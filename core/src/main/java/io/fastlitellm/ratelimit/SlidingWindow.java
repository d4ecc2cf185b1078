package io.fastlitellm.ratelimit;

import java.time.Duration;

/**
 * A sliding window over any unit that never lets any window of length {@code period} hold more
 * than {@code limit} admitted units: no doubling at window edges, unlike fixed windows (60 at
 * 0:59 and 60 more at 1:00) and unlike a token bucket (a burst, then the refill).
 *
 * <p>How: time is cut into {@code slots} slots of {@code w = ceil(period / slots)} ns; the window
 * counts the current slot and the {@code slots} before it, which together cover at least the last
 * {@code period}. A unit admitted at {@code t} is thus counted until the end of the slot that holds
 * {@code t + slots * w}: it frees up between {@code period} and {@code period + w} after its
 * admission, never before. That is the whole price of exactness with a fixed amount of state
 * ({@code slots + 1} counters); more slots make it smaller. A unit is admitted only when the count
 * including it is at most {@code limit}, so every window of length {@code period} that ends at an
 * admission holds at most {@code limit}, and hence every window does.
 *
 * <p>Concurrency: one monitor guards the counters. This is meant for the few limits that need
 * exact windows (deployments, teams); the per-key hot path is the lock-free {@link LimitStore}.
 *
 * <p>Refunds return units to the slot they were counted in while it is still in the window; after
 * that they are gone anyway, and refunding them elsewhere would break the guarantee.
 */
public final class SlidingWindow implements RateLimit {

    private final long limit;
    private final long slotNanos;
    private final int slots;
    /* Guarded by this: counts[floorMod(slot, slots + 1)] for slot in (head - slots - 1, head]. */
    private final long[] counts;
    private long head;
    private long total;
    private boolean started;

    public SlidingWindow(long limit, Duration period, int slots) {
        Args.nonNegative("limit", limit);
        long periodNanos = Args.periodNanos(period);
        if (slots < 1 || slots > 100_000) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: 1..100000)");
        }
        this.limit = limit;
        this.slots = slots;
        this.slotNanos = Math.max(1, Math.ceilDiv(periodNanos, slots));
        this.counts = new long[slots + 1];
    }

    /** {@code limit} per {@code period}, in 60 slots (one second each for a minute). */
    public SlidingWindow(long limit, Duration period) {
        this(limit, period, 60);
    }

    @Override
    public long tryAcquire(long permits, long nowNanos) {
        long trivial = Args.trivially(permits, limit);
        if (trivial != Args.PROCEED) {
            return trivial;
        }
        synchronized (this) {
            advance(nowNanos);
            if (total + permits <= limit) {
                counts[index(head)] += permits;
                total += permits;
                return 0;
            }
            // Walk from the oldest slot: each one leaves the window when the clock enters head + j + 1.
            long need = total + permits - limit;
            long freed = 0;
            for (int j = 0; j <= slots; j++) {
                freed += counts[index(head - slots + j)];
                if (freed >= need) {
                    return Math.max(1, (head + j + 1) * slotNanos - nowNanos);
                }
            }
            throw new AssertionError("total " + total + " exceeds the counted slots");
        }
    }

    @Override
    public synchronized void refund(long permits, long acquiredAtNanos, long nowNanos) {
        advance(nowNanos);
        long slot = Math.floorDiv(acquiredAtNanos, slotNanos);
        if (permits <= 0 || slot > head || slot <= head - slots - 1) {
            return;
        }
        int i = index(slot);
        long back = Math.min(permits, counts[i]);
        counts[i] -= back;
        total -= back;
    }

    @Override
    public synchronized long available(long nowNanos) {
        advance(nowNanos);
        return Math.max(0, limit - total);
    }

    @Override
    public long limit() {
        return limit;
    }

    private int index(long slot) {
        return (int) Math.floorMod(slot, (long) slots + 1);
    }

    /** Moves the window to {@code nowNanos}; a clock that goes back is treated as standing still. */
    private void advance(long nowNanos) {
        long slot = Math.floorDiv(nowNanos, slotNanos);
        if (!started) {
            started = true;
            head = slot;
            return;
        }
        if (slot <= head) {
            return;
        }
        if (slot - head > slots) {
            java.util.Arrays.fill(counts, 0);
            total = 0;
        } else {
            for (long s = head + 1; s <= slot; s++) {
                int i = index(s);
                total -= counts[i];
                counts[i] = 0;
            }
        }
        head = slot;
    }
}
