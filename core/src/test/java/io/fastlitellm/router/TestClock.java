package io.fastlitellm.router;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A clock the test moves by hand; starts at an arbitrary, negative nanoTime as System.nanoTime may. */
final class TestClock implements LongSupplier {
    private long now = -5_000_000_000_000L;

    @Override
    public long getAsLong() {
        return now;
    }

    void advance(Duration d) {
        now += d.toNanos();
    }
}
