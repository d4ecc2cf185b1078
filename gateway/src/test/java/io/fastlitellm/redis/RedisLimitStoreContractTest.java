package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.ratelimit.LimitStore;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimiter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shared limit-store suite against Redis (a real {@code redis-server}), plus what only a shared
 * store must do: hold one limit for several instances whose own clocks disagree.
 */
class RedisLimitStoreContractTest extends RedisBackedLimitStoreContract {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    @Override
    protected RedisSettings settings(Duration budget, RedisSettings.FailurePolicy policy) {
        return new RedisSettings(REDIS.uri(), budget, policy);
    }

    @Test
    void threeInstancesWithClocksHoursApartShareOneLimitExactly() {
        String scope = "shared" + SCOPES.incrementAndGet();
        RedisState[] instances = new RedisState[3];
        RateLimiter[] limiters = new RateLimiter[3];
        try {
            for (int i = 0; i < 3; i++) {
                instances[i] = RedisState.connect(settings(Duration.ofSeconds(2), RedisSettings.FailurePolicy.REFUSE), m -> { });
                long skew = i * 3_600_000_000_000L;
                limiters[i] = new RateLimiter(instances[i].limitStore(scope, 16), instances[i].limitStore(scope + "d", 16),
                        () -> System.nanoTime() + skew);
            }
            Limits rpm30 = Limits.key(30, Limits.UNLIMITED, Limits.UNLIMITED);
            int ok = 0;
            for (int i = 0; i < 90; i++) {
                if (limiters[i % 3].acquire("k", rpm30, 0).allowed()) {
                    ok++;
                }
            }
            assertThat(ok).isEqualTo(30);
            assertThat(instances[0].metrics().redisChecks()).isEqualTo(30);
            assertThat(instances[0].metrics().localChecks()).isZero();
        } finally {
            for (RedisState s : instances) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aRestartedRedisWithoutTheScriptsIsServedByEvalAfterNoscript() {
        RateLimiter l = new RateLimiter(newStore(), newStore(), clock());
        Limits rpm2 = Limits.key(2, Limits.UNLIMITED, Limits.UNLIMITED);
        assertThat(l.acquire("k", rpm2, 0).allowed()).isTrue();
        assertThat(REDIS.command("SCRIPT FLUSH")).isEqualTo("+OK");
        assertThat(l.acquire("k", rpm2, 0).allowed()).isTrue();
        assertThat(l.acquire("k", rpm2, 0).allowed()).isFalse();
    }

    @Test
    void aKeysStateIsOneStringUnderTheLimitsHashTagAndExpiresWhenIdle() {
        LimitStore store = redis.limitStore("tagged", 16);
        RateLimiter l = new RateLimiter(store, store, clock());
        assertThat(l.acquire("user-1", Limits.key(60, Limits.UNLIMITED, Limits.UNLIMITED), 0).allowed()).isTrue();
        assertThat(l.acquire("odd}{key", Limits.key(60, Limits.UNLIMITED, Limits.UNLIMITED), 0).allowed()).isTrue();
        assertThat(REDIS.command("TYPE {fl:l}:tagged:user-1")).isEqualTo("+string");
        assertThat(REDIS.command("TYPE {fl:l}:tagged:odd}{key")).isEqualTo("+string");
        // every limit key, braces in it or not, is in the slot of the one tag {fl:l} (Redis Cluster)
        assertThat(io.lettuce.core.cluster.SlotHash.getSlot("{fl:l}:tagged:odd}{key"))
                .isEqualTo(io.lettuce.core.cluster.SlotHash.getSlot("{fl:l}:tagged:user-1"))
                .isEqualTo(io.lettuce.core.cluster.SlotHash.getSlot("fl:l"));
        // one request of a 60 rpm bucket is repaid after a second: the key lives about that long
        long ttl = Long.parseLong(REDIS.command("PTTL {fl:l}:tagged:user-1").substring(1));
        assertThat(ttl).isBetween(1L, 2_000L);
    }

    /**
     * A deployment's limits and the router's hash of the same deployment (in flight, cooldown) are
     * two keys: a limit check, which sets its key to expire once the buckets are full again (about a
     * second here), leaves the router's hash and its hour-long expiry alone. When they were one hash,
     * that check cut a 60 s cooldown to a second.
     */
    @Test
    void aDeploymentsLimitsNeverShortenTheRoutersCooldown() {
        String id = "dep-cooling-" + SCOPES.incrementAndGet();
        assertThat(REDIS.command("HSET {fl:d:" + id + "} cd 99999999999999999")).isEqualTo(":1");
        assertThat(REDIS.command("PEXPIRE {fl:d:" + id + "} 3600000")).isEqualTo(":1");
        LimitStore deployments = redis.limitStore("d", 16);
        RateLimiter l = new RateLimiter(newStore(), deployments, clock());
        assertThat(l.acquireDeployment(id, Limits.deployment(60, Limits.UNLIMITED), 0).allowed()).isTrue();
        assertThat(REDIS.command("TYPE {fl:d:" + id + "}")).isEqualTo("+hash");
        assertThat(Long.parseLong(REDIS.command("PTTL {fl:d:" + id + "}").substring(1))).isGreaterThan(3_000_000L);
        assertThat(REDIS.command("TYPE {fl:l}:d:" + id)).isEqualTo("+string");
    }

    /** The EVALSHA calls Redis has counted since it started (INFO commandstats), as a one-line reply. */
    private static long scriptsRun() {
        String head = REDIS.command("EVAL \"return {ok=string.match(redis.call('INFO', 'commandstats'),"
                + " 'cmdstat_evalsha:calls=(%d+)') or '0'}\" 0");
        assertThat(head).startsWith("+");
        return Long.parseLong(head.substring(1));
    }

    /**
     * Checks made while one batch is out go together in the next script, each still exact: 400
     * checks on a key with rpm_limit 100 admit exactly 100 in at most 5 scripts (one sent at once,
     * the rest held behind it by a paused Redis, then 128 a script).
     */
    @Test
    void checksMadeWhileABatchIsOutGoInOneScriptAndStayExact() throws Exception {
        LimitStore store = newStore();
        RateLimiter limiter = new RateLimiter(store, newStore(), System::nanoTime);
        Limits rpm100 = Limits.key(100, Limits.UNLIMITED, Limits.UNLIMITED);
        assertThat(limiter.acquire("warm", rpm100, 0).allowed()).isTrue(); // connected, scripts loaded
        long before = scriptsRun();
        assertThat(REDIS.command("CLIENT PAUSE 300 ALL")).isEqualTo("+OK");
        java.util.List<java.util.concurrent.CompletableFuture<io.fastlitellm.ratelimit.Permit>> checks = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            checks.add(limiter.acquireAsync("k", rpm100, 0));
        }
        int admitted = 0;
        for (var c : checks) {
            if (c.get(10, java.util.concurrent.TimeUnit.SECONDS).allowed()) {
                admitted++;
            }
        }
        assertThat(admitted).isEqualTo(100);
        assertThat(redis.metrics().localChecks()).isZero();
        // scriptsRun() itself is no script. The first check goes alone, the rest wait for it and go
        // 128 a script: 1 + ceil(399 / 128) = 5 at most.
        assertThat(scriptsRun() - before).isBetween(1L, 1L + Math.ceilDiv(399, ScriptBatcher.MAX_BATCH));
    }

    /** And at its end, reconciling and releasing both is one call: one script when nothing else is out. */
    @Test
    void aRequestsEndOnKeyAndDeploymentIsOneScript() throws Exception {
        String scope = "t" + SCOPES.incrementAndGet();
        RateLimiter limiter = new RateLimiter(redis.limitStore(scope, 16), newStore(), System::nanoTime);
        Limits key = Limits.key(10, 1000, 2);
        Limits dep = Limits.deployment(10, 1000);
        RateLimiter.KeyAndDeployment both = limiter.acquireAsync("k", key, "d", dep, 100).get(10, java.util.concurrent.TimeUnit.SECONDS);
        Permit p = both.key().and(both.deployment());
        assertThat(p.allowed()).isTrue();
        assertThat(REDIS.limitInFlight(scope, "k")).isEqualTo("1");
        long before = scriptsRun();
        p.finish(40);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!REDIS.limitInFlight(scope, "k").equals("0") && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(REDIS.limitInFlight(scope, "k")).isEqualTo("0");
        assertThat(scriptsRun() - before).isEqualTo(1);
    }

    /** A request's key and deployment, checked as one on Redis, take one script and one round trip. */
    @Test
    void keyAndDeploymentAsOneTakeOneScript() throws Exception {
        RateLimiter limiter = new RateLimiter(newStore(), newStore(), System::nanoTime);
        Limits key = Limits.key(10, 1000, 2);
        Limits dep = Limits.deployment(10, 1000);
        assertThat(limiter.acquire("warm", key, 0).allowed()).isTrue();
        long before = scriptsRun();
        assertThat(limiter.acquireAsync("k", key, "d", dep, 100).get(10, java.util.concurrent.TimeUnit.SECONDS).allowed())
                .isTrue();
        assertThat(scriptsRun() - before).isEqualTo(1);
        assertThat(REDIS.command("EXISTS {fl:l}:t" + SCOPES.get() + ":d")).isEqualTo(":1");
    }
}
