package io.fastlitellm.redis;

import io.fastlitellm.ratelimit.LimitStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link LimitStoreContract} on a real Redis, one server or a cluster ({@link #settings}): one
 * {@link RedisState} for the class (budget 2 s, policy refuse, so that a check Redis did not answer
 * fails the test instead of passing on local limits), a fresh scope per store.
 *
 * <p>The limiter's clock here is a constant: the Redis store must not use it (refill is measured on
 * the Redis server's clock), and {@code bucketsRefillAtTheLimitsRateAndNoFaster} proves it does not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RedisBackedLimitStoreContract extends LimitStoreContract {
    static final AtomicInteger SCOPES = new AtomicInteger();

    RedisState redis;

    /** Where the Redis under test is, with the given budget and policy. */
    protected abstract RedisSettings settings(Duration budget, RedisSettings.FailurePolicy policy);

    @BeforeAll
    void connect() {
        redis = RedisState.connect(settings(Duration.ofSeconds(2), RedisSettings.FailurePolicy.REFUSE), m -> { });
    }

    @AfterAll
    void disconnect() {
        redis.close();
    }

    @Override
    protected LimitStore newStore() {
        return redis.limitStore("t" + SCOPES.incrementAndGet(), 1024);
    }

    @Override
    protected LongSupplier clock() {
        return () -> 42L;
    }

    @Override
    protected void advance(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }
}
