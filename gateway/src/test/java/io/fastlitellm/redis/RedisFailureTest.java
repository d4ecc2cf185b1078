package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimiter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis unavailable at start, mid-run, or slower than the budget: the failure policy applies, the
 * link comes back by itself, and nothing taken on Redis is left behind.
 */
class RedisFailureTest {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    private static final Limits RPM3 = Limits.key(3, Limits.UNLIMITED, Limits.UNLIMITED);

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("within 10 s: " + what).isNegative();
            Thread.sleep(20);
        }
    }

    private static int admitted(RateLimiter l, String key, Limits limits, int tries) {
        int ok = 0;
        for (int i = 0; i < tries; i++) {
            if (l.acquire(key, limits, 0).allowed()) {
                ok++;
            }
        }
        return ok;
    }

    @Test
    void downAtStartFallsBackToLocalLimitsWarnsOnceAMinuteAndSharesAgainWhenRedisComes() throws Exception {
        REDIS.stop();
        AtomicLong clock = new AtomicLong();
        List<String> log = new CopyOnWriteArrayList<>();
        try (RedisState state = RedisState.connect(new RedisSettings(REDIS.uri(), RedisSettings.DEFAULT_BUDGET,
                RedisSettings.FailurePolicy.FALLBACK), log::add, clock::get)) {
            RateLimiter a = new RateLimiter(state.limitStore("k", 16), state.limitStore("d", 16), System::nanoTime);
            assertThat(state.connected()).isFalse();
            assertThat(admitted(a, "user", RPM3, 5)).isEqualTo(3); // the local limit holds
            assertThat(state.metrics().localChecks()).isEqualTo(5);
            assertThat(state.metrics().redisChecks()).isZero();
            assertThat(log.stream().filter(m -> m.contains("checking limits on this instance only"))).hasSize(1);
            clock.addAndGet(Duration.ofSeconds(59).toNanos());
            admitted(a, "user", RPM3, 1);
            assertThat(log.stream().filter(m -> m.contains("checking limits on this instance only"))).hasSize(1);
            clock.addAndGet(Duration.ofSeconds(2).toNanos());
            admitted(a, "user", RPM3, 1);
            assertThat(log.stream().filter(m -> m.contains("checking limits on this instance only"))).hasSize(2);

            REDIS.start();
            eventually("reconnected", state::connected);
            assertThat(admitted(a, "fresh", RPM3, 5)).isEqualTo(3);
            assertThat(state.metrics().redisChecks()).isEqualTo(5);
            assertThat(REDIS.command("EXISTS {fl:l}:k:fresh")).isEqualTo(":1");
        } finally {
            REDIS.start();
        }
    }

    @Test
    void theRefusePolicyRefusesWhileRedisIsDownAndNamesThePolicy() throws Exception {
        try (RedisState state = RedisState.connect(new RedisSettings(REDIS.uri(), RedisSettings.DEFAULT_BUDGET,
                RedisSettings.FailurePolicy.REFUSE), m -> { })) {
            RateLimiter l = new RateLimiter(state.limitStore("r", 16), state.limitStore("rd", 16), System::nanoTime);
            assertThat(l.acquire("user", RPM3, 0).allowed()).isTrue();
            REDIS.stop();
            eventually("disconnect seen", () -> !state.connected());
            assertThatThrownBy(() -> l.acquire("user", RPM3, 0))
                    .isInstanceOf(SharedStateUnavailableException.class)
                    .hasMessageContaining(REDIS.uri())
                    .hasMessageContaining("redis_failure_policy: refuse");
            REDIS.start();
            eventually("reconnected", state::connected);
            assertThat(l.acquire("user", RPM3, 0).allowed()).isTrue(); // a restarted Redis starts empty
        } finally {
            REDIS.start();
        }
    }

    @Test
    void underRefuseAStoreWithoutARefusalDeniesInsteadOfThrowing() throws Exception {
        try (RedisState state = RedisState.connect(new RedisSettings(REDIS.uri(), RedisSettings.DEFAULT_BUDGET,
                RedisSettings.FailurePolicy.REFUSE), m -> { })) {
            RateLimiter l = new RateLimiter(state.limitStore("rk", 16), state.limitStore("rd", 16, null), System::nanoTime);
            REDIS.stop();
            eventually("disconnect seen", () -> !state.connected());
            Permit p = l.acquireDeployment("dep", Limits.deployment(100, Limits.UNLIMITED), 0);
            assertThat(p.allowed()).isFalse();
            assertThat(p.deniedLimitKind()).isEqualTo(Permit.CAPACITY);
            assertThat(p.retryAfterMillis()).isEqualTo(1000);
            assertThat(state.metrics().unavailableCount()).isEqualTo(1);
            assertThat(state.metrics().localChecks()).isZero();
        } finally {
            REDIS.start();
        }
    }

    @Test
    void aCheckPastTheBudgetFallsBackAndItsLateGrantOnRedisIsUndone() throws Exception {
        try (RedisState state = RedisState.connect(new RedisSettings(REDIS.uri(), Duration.ofMillis(50),
                RedisSettings.FailurePolicy.FALLBACK), m -> { })) {
            RateLimiter l = new RateLimiter(state.limitStore("slow", 16), state.limitStore("slowd", 16), System::nanoTime);
            Limits oneAtATime = Limits.key(10, 1000, 1);
            assertThat(l.acquire("warm", oneAtATime, 0).allowed()).isTrue();
            // Redis holds every client's commands for 400 ms, far past the 50 ms budget.
            assertThat(REDIS.command("CLIENT PAUSE 400 ALL")).isEqualTo("+OK");
            Permit p = l.acquire("user", oneAtATime, 100);
            assertThat(p.allowed()).isTrue();
            assertThat(state.metrics().localChecks()).isEqualTo(1);
            // Once Redis runs the late check, the compensation gives its slot, request and tokens back.
            eventually("late grant undone", () -> "0".equals(REDIS.limitInFlight("slow", "user")));
            p.fail();
            // the fallback slot is freed where it was taken: the next check (on Redis again) passes
            assertThat(l.acquire("user", oneAtATime, 100).allowed()).isTrue();
        }
    }

    @Test
    void aReleaseThatCannotBeSentIsSentByCleanupOnceRedisIsBack() throws Exception {
        try (RedisState state = RedisState.connect(new RedisSettings(REDIS.uri(), RedisSettings.DEFAULT_BUDGET,
                RedisSettings.FailurePolicy.FALLBACK), m -> { })) {
            var store = state.limitStore("rel", 16);
            RateLimiter l = new RateLimiter(store, state.limitStore("reld", 16), System::nanoTime);
            Limits one = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 1);
            Permit p = l.acquire("user", one, 0);
            assertThat(p.allowed()).isTrue();
            assertThat(REDIS.limitInFlight("rel", "user")).isEqualTo("1");
            REDIS.command("CLIENT KILL TYPE normal SKIPME yes");
            p.release();
            eventually("reconnected", state::connected);
            eventually("release delivered", () -> {
                store.cleanup(System.nanoTime());
                return "0".equals(REDIS.limitInFlight("rel", "user"));
            });
            assertThat(l.acquire("user", one, 0).allowed()).isTrue();
        }
    }
}
