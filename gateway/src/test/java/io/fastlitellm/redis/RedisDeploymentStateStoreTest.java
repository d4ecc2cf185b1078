package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.DeploymentStateStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two instances' router state stores over one Redis: what one writes, the other reads after a refresh. */
class RedisDeploymentStateStoreTest {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    private static final List<Deployment> DEPLOYMENTS = List.of(
            Deployment.builder().id("dep-a").modelName("m").model("mock/a").build(),
            Deployment.builder().id("dep-b").modelName("m").model("mock/b").build());
    private static final long MINUTE = 60_000_000_000L;

    private RedisState one;
    private RedisState two;

    @BeforeEach
    void connect() {
        RedisSettings s = new RedisSettings(REDIS.uri(), Duration.ofSeconds(1), RedisSettings.FailurePolicy.FALLBACK);
        one = RedisState.connect(s, m -> { });
        two = RedisState.connect(s, m -> { });
        REDIS.command("FLUSHALL");
    }

    @AfterEach
    void close() {
        one.close();
        two.close();
    }

    /**
     * The shared clock's now, at least 10 s before its minute ends: usage is counted in the minute of
     * the sync that sends it (every 100 ms, on the real clock), so a test that asserts one minute's
     * counts must not straddle two.
     */
    static long nowWellInsideAMinute() throws InterruptedException {
        long now = RedisState.clock().getAsLong();
        long left = MINUTE - Math.floorMod(now, MINUTE);
        if (left < 10_000_000_000L) {
            Thread.sleep(left / 1_000_000 + 100);
            now = RedisState.clock().getAsLong();
        }
        return now;
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("within 5 s: " + what).isNegative();
            Thread.sleep(10);
        }
    }

    @Test
    void inFlightUsageAndCooldownsWrittenByOneInstanceAreSeenByTheOther() throws Exception {
        DeploymentStateStore a = one.deploymentStateStore(DEPLOYMENTS);
        RedisDeploymentStateStore b = (RedisDeploymentStateStore) two.deploymentStateStore(DEPLOYMENTS);
        long now = nowWellInsideAMinute();
        long minute = Math.floorDiv(now, MINUTE);

        a.addInFlight(1, 1);
        a.addInFlight(1, 1);
        a.addUsage(1, minute, 2, 300);
        a.recordOutcome(1, minute, false);
        a.setCooldownUntil(1, now + 30 * 1_000_000_000L);
        // this instance sees its own writes at once
        assertThat(a.inFlight(1)).isEqualTo(2);
        assertThat(a.tokensInMinute(1, minute)).isEqualTo(300);

        eventually("the other instance's refresh", () -> b.refresh(now, 500_000_000L) && b.inFlight(1) == 2
                && b.cooldownUntil(1) == now + 30 * 1_000_000_000L);
        assertThat(b.requestsInMinute(1, minute)).isEqualTo(2);
        assertThat(b.tokensInMinute(1, minute)).isEqualTo(300);
        assertThat(b.failuresInMinute(1, minute)).isEqualTo(1);
        assertThat(b.inFlight(0)).isZero();
        assertThat(b.cooldownUntil(0)).isEqualTo(DeploymentStateStore.NO_COOLDOWN);
        // another minute starts from zero
        assertThat(b.requestsInMinute(1, minute + 1)).isZero();

        b.addInFlight(1, -5); // never below zero, on Redis either
        eventually("in flight clamped", () -> "0".equals(REDIS.command("EVAL \"return {ok=redis.call('HGET', '{fl:d:dep-b}', 'if')}\" 0").substring(1)));
        // keys of one deployment share a hash tag: one Redis Cluster slot
        assertThat(io.lettuce.core.cluster.SlotHash.getSlot("{fl:d:dep-b}:m:" + minute))
                .isEqualTo(io.lettuce.core.cluster.SlotHash.getSlot("{fl:d:dep-b}"))
                .isNotEqualTo(io.lettuce.core.cluster.SlotHash.getSlot("fl:d:dep-b:m:" + minute));
    }

    @Test
    void anEarlierCooldownNeverShortensALaterOne() throws Exception {
        DeploymentStateStore a = one.deploymentStateStore(DEPLOYMENTS);
        RedisDeploymentStateStore b = (RedisDeploymentStateStore) two.deploymentStateStore(DEPLOYMENTS);
        long now = RedisState.clock().getAsLong();
        a.setCooldownUntil(0, now + 60_000_000_000L);
        b.setCooldownUntil(0, now + 5_000_000_000L);
        eventually("both refreshed", () -> b.refresh(now, 500_000_000L) && b.cooldownUntil(0) == now + 60_000_000_000L);
    }
}
