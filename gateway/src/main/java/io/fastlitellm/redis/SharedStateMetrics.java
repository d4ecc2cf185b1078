package io.fastlitellm.redis;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What the shared-state layer reports: checks answered by Redis, checks answered locally because
 * Redis could not answer, and the warning for the log, at most one a minute however many requests
 * fall back (the first one at once).
 *
 * <p>Thread-safe: counters are {@link LongAdder}s; the warning's minute is claimed by one CAS, so
 * concurrent fallbacks in one minute print one line.
 */
public final class SharedStateMetrics {
    private static final long MINUTE_NANOS = 60_000_000_000L;

    final LongAdder redisChecks = new LongAdder();
    final LongAdder localChecks = new LongAdder();
    final LongAdder unavailable = new LongAdder();
    private final AtomicLong nextWarning;
    private final LongSupplier nanoTime;
    private final Consumer<String> log;

    SharedStateMetrics(LongSupplier nanoTime, Consumer<String> log) {
        this.nanoTime = nanoTime;
        this.log = log;
        this.nextWarning = new AtomicLong(nanoTime.getAsLong());
    }

    void unavailable(String why) {
        unavailable.increment();
        long now = nanoTime.getAsLong();
        long next = nextWarning.get();
        if (now - next >= 0 && nextWarning.compareAndSet(next, now + MINUTE_NANOS)) {
            log.accept("fast-litellm: warning: Redis " + why + "; checking limits on this instance only ("
                    + unavailable.sum() + " checks so far; next warning in a minute at the earliest)");
        }
    }

    /** Limit checks Redis answered. */
    public long redisChecks() {
        return redisChecks.sum();
    }

    /** Limit checks answered by this instance's own limits because Redis could not answer in time. */
    public long localChecks() {
        return localChecks.sum();
    }

    /** Times Redis could not answer a limit check within the budget (fallen back or refused). */
    public long unavailableCount() {
        return unavailable.sum();
    }
}
