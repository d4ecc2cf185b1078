package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.ratelimit.LimitStore;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shared limit-store suite against a real three-primary Redis Cluster, plus what a cluster
 * adds: keys whose own slots are spread over every node still take one atomic script per check
 * (all limit state is under one hash tag), instances that each know a different startup node share
 * one limit, and a node going away falls back within the budget and comes back.
 */
class RedisClusterLimitStoreContractTest extends RedisBackedLimitStoreContract {
    @RegisterExtension
    static final RedisClusterExtension CLUSTER = new RedisClusterExtension();

    @Override
    protected RedisSettings settings(Duration budget, RedisSettings.FailurePolicy policy) {
        return RedisSettings.ofCluster(CLUSTER.uris(), budget, policy);
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("within 30 s: " + what).isNegative();
            Thread.sleep(20);
        }
    }

    /** Keys and deployments named so that tags of their own would put them on every node. */
    private static List<String> spreadNames() {
        List<String> names = new ArrayList<>();
        Set<Integer> nodes = new HashSet<>();
        for (int i = 0; names.size() < 12; i++) {
            String name = "user-" + i;
            names.add(name);
            nodes.add(CLUSTER.nodeOf(name));
        }
        assertThat(nodes).as("the names' own slots cover every node").hasSize(RedisClusterExtension.NODES);
        return names;
    }

    @Test
    void keysAndDeploymentsOnEverySlotAreCheckedAsOneOnTheNodeOfTheLimitsTag() throws Exception {
        String scope = "spread" + SCOPES.incrementAndGet();
        LimitStore keys = redis.limitStore(scope, 64);
        LimitStore deployments = redis.limitStore(scope + "d", 64);
        RateLimiter limiter = new RateLimiter(keys, deployments, clock());
        Limits key = Limits.key(2, Limits.UNLIMITED, Limits.UNLIMITED);
        Limits dep = Limits.deployment(1000, Limits.UNLIMITED);
        List<String> names = spreadNames();
        int admitted = 0;
        for (int round = 0; round < 3; round++) {
            List<CompletableFuture<RateLimiter.KeyAndDeployment>> checks = new ArrayList<>();
            for (String name : names) {
                // each key with a deployment of another name: pairs that span nodes on their own tags
                checks.add(limiter.acquireAsync(name, key, names.get((names.indexOf(name) + 1) % names.size()), dep, 0));
            }
            for (CompletableFuture<RateLimiter.KeyAndDeployment> c : checks) {
                if (c.get(10, TimeUnit.SECONDS).allowed()) {
                    admitted++;
                }
            }
        }
        assertThat(admitted).as("2 of 3 rounds per key, exactly").isEqualTo(2 * names.size());
        int owner = CLUSTER.nodeOf(RedisLimitStore.LIMITS_TAG);
        for (String name : names) {
            assertThat(CLUSTER.onNode(owner, "EXISTS", RedisLimitStore.LIMITS_TAG + ":" + scope + ":" + name)).isEqualTo(1L);
            assertThat(CLUSTER.onNode(owner, "EXISTS", RedisLimitStore.LIMITS_TAG + ":" + scope + "d:" + name)).isEqualTo(1L);
        }
        assertThat(redis.metrics().localChecks()).isZero();
    }

    @Test
    void instancesThatKnowDifferentStartupNodesShareOneLimitExactly() throws Exception {
        String scope = "shared" + SCOPES.incrementAndGet();
        RedisState[] instances = new RedisState[RedisClusterExtension.NODES];
        RateLimiter[] limiters = new RateLimiter[instances.length];
        try {
            for (int i = 0; i < instances.length; i++) {
                instances[i] = RedisState.connect(RedisSettings.ofCluster(List.of(CLUSTER.uris().get(i)),
                        Duration.ofSeconds(2), RedisSettings.FailurePolicy.REFUSE), m -> { });
                limiters[i] = new RateLimiter(instances[i].limitStore(scope, 16), instances[i].limitStore(scope + "d", 16),
                        System::nanoTime);
            }
            Limits rpm30 = Limits.key(30, Limits.UNLIMITED, Limits.UNLIMITED);
            Limits dep = Limits.deployment(45, Limits.UNLIMITED);
            List<CompletableFuture<RateLimiter.KeyAndDeployment>> checks = new ArrayList<>();
            for (int i = 0; i < 90; i++) {
                checks.add(limiters[i % 3].acquireAsync("k", rpm30, "d", dep, 0));
            }
            int ok = 0;
            for (CompletableFuture<RateLimiter.KeyAndDeployment> c : checks) {
                if (c.get(10, TimeUnit.SECONDS).allowed()) {
                    ok++;
                }
            }
            assertThat(ok).isEqualTo(30);
            // the deployment was charged for the 30 admitted only: 15 of its 45 are left
            int left = 0;
            for (int i = 0; i < 20; i++) {
                if (limiters[i % 3].acquireDeployment("d", dep, 0).allowed()) {
                    left++;
                }
            }
            assertThat(left).isEqualTo(15);
        } finally {
            for (RedisState s : instances) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aNodeThatGoesAwayFallsBackWithinTheBudgetAndLimitsAreSharedAgainWhenItIsBack() throws Exception {
        int owner = CLUSTER.nodeOf(RedisLimitStore.LIMITS_TAG);
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (RedisState state = RedisState.connect(settings(Duration.ofMillis(200), RedisSettings.FailurePolicy.FALLBACK),
                log::add)) {
            RateLimiter limiter = new RateLimiter(state.limitStore("down", 16), state.limitStore("downd", 16), System::nanoTime);
            Limits rpm3 = Limits.key(3, Limits.UNLIMITED, Limits.UNLIMITED);
            assertThat(limiter.acquire("before", rpm3, 0).allowed()).isTrue();
            assertThat(state.metrics().redisChecks()).isEqualTo(1);

            CLUSTER.stop(owner);
            try {
                int ok = 0;
                for (int i = 0; i < 5; i++) {
                    if (limiter.acquire("while-down", rpm3, 0).allowed()) {
                        ok++;
                    }
                }
                // this instance's own limits: 3 of 5, none of them waited on Redis past the budget
                assertThat(ok).isEqualTo(3);
                assertThat(state.metrics().localChecks()).isEqualTo(5);
                assertThat(log).anyMatch(m -> m.contains("checking limits on this instance only"));
            } finally {
                CLUSTER.start(owner);
                CLUSTER.awaitOk();
            }
            long before = state.metrics().redisChecks();
            eventually("checks answered by the cluster again", () -> {
                limiter.acquire("after-" + System.nanoTime(), rpm3, 0);
                return state.metrics().redisChecks() > before;
            });
        }
    }

    /**
     * A gateway that starts while a primary that holds no limit state is down (a cluster that serves
     * the rest of its slots meanwhile, {@code cluster-require-full-coverage no}) still shares its
     * limits: the scripts that could not be loaded on the missing node do not keep it from connecting.
     */
    @Test
    void aGatewayStartingWhileAnotherPrimaryIsDownSharesItsLimits() throws Exception {
        int owner = CLUSTER.nodeOf(RedisLimitStore.LIMITS_TAG);
        int other = (owner + 1) % RedisClusterExtension.NODES;
        for (int i = 0; i < RedisClusterExtension.NODES; i++) {
            assertThat(CLUSTER.onNode(i, "CONFIG", "SET", "cluster-require-full-coverage", "no")).isEqualTo("OK");
        }
        CLUSTER.stop(other);
        try (RedisState state = RedisState.connect(settings(Duration.ofSeconds(2), RedisSettings.FailurePolicy.FALLBACK),
                m -> { })) {
            assertThat(state.connected()).as("connected at start despite node " + other + " being down").isTrue();
            RateLimiter limiter = new RateLimiter(state.limitStore("partial", 16), state.limitStore("partiald", 16),
                    System::nanoTime);
            Limits rpm2 = Limits.key(2, Limits.UNLIMITED, Limits.UNLIMITED);
            assertThat(limiter.acquire("k", rpm2, 0).allowed()).isTrue();
            assertThat(limiter.acquire("k", rpm2, 0).allowed()).isTrue();
            assertThat(limiter.acquire("k", rpm2, 0).allowed()).isFalse();
            assertThat(state.metrics().redisChecks()).isEqualTo(3);
            assertThat(state.metrics().localChecks()).isZero();
        } finally {
            CLUSTER.start(other);
            for (int i = 0; i < RedisClusterExtension.NODES; i++) {
                CLUSTER.onNode(i, "CONFIG", "SET", "cluster-require-full-coverage", "yes");
            }
            CLUSTER.awaitOk();
        }
    }
}
