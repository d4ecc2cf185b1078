package io.fastlitellm.redis;

import io.fastlitellm.ratelimit.LimitStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** The shared limit-store suite against the in-memory store, on a clock that moves only when told. */
class InMemoryLimitStoreContractTest extends LimitStoreContract {
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    @Override
    protected LimitStore newStore() {
        return LimitStore.inMemory(1024);
    }

    @Override
    protected LongSupplier clock() {
        return now::get;
    }

    @Override
    protected void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }
}
