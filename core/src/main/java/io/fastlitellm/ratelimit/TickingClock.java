package io.fastlitellm.ratelimit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * A {@code nanoTime} clock for the check path that costs a field read instead of a clock read: a
 * daemon thread copies {@code System.nanoTime()} into a volatile field every {@code resolution}
 * (1 ms by default). Reading {@code System.nanoTime()} costs about 30 ns on the 2-core machine the
 * benchmarks run on, more than the rest of a check (docs/benchmarks/ratelimit.md).
 *
 * <p>What changes for the limits: nothing that is promised. The limiters are exact with respect to
 * the clock they are given; this clock is monotonic and lags the real one by at most the resolution
 * plus scheduling delay, so refill is seen at most that much late (stricter, never looser) and a
 * retry-after is never too early. Retry-after stays computed to the millisecond from this clock.
 *
 * <p>Concurrency: one writer (the ticker thread), any number of readers of one volatile long.
 */
public final class TickingClock implements LongSupplier, AutoCloseable {

    private volatile long now;
    private volatile boolean running = true;
    private final Thread ticker;

    public TickingClock(Duration resolution) {
        if (resolution == null || resolution.isNegative() || resolution.isZero()
                || resolution.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("resolution: " + resolution + " (expected: > 0 and <= 1 s)");
        }
        long sleep = resolution.toNanos();
        now = System.nanoTime();
        ticker = Thread.ofPlatform().daemon().name("fast-litellm-clock").unstarted(() -> {
            while (running) {
                LockSupport.parkNanos(sleep);
                long t = System.nanoTime();
                if (t > now) {
                    now = t;
                }
            }
        });
        ticker.start();
    }

    /** Ticks every millisecond. */
    public TickingClock() {
        this(Duration.ofMillis(1));
    }

    @Override
    public long getAsLong() {
        return now;
    }

    /** Stops the ticker; the clock then stands still. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(ticker);
    }
}
