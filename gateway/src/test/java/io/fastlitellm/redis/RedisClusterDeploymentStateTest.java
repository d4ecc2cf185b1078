package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.DeploymentStateStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The router's shared state on a Redis Cluster: each deployment's keys share its own hash tag, so
 * deployments spread over the nodes, and what one instance writes for each of them the other reads
 * after a refresh, whichever node holds it.
 */
class RedisClusterDeploymentStateTest {
    @RegisterExtension
    static final RedisClusterExtension CLUSTER = new RedisClusterExtension();

    private static final long MINUTE = 60_000_000_000L;

    @Test
    void inFlightUsageAndCooldownsOfDeploymentsOnEveryNodeAreSeenByTheOtherInstance() throws Exception {
        List<Deployment> deployments = new ArrayList<>();
        Set<Integer> nodes = new HashSet<>();
        for (int i = 0; i < 9; i++) {
            String id = "dep-" + i;
            deployments.add(Deployment.builder().id(id).modelName("m").model("mock/" + i).build());
            nodes.add(CLUSTER.nodeOf("{fl:d:" + id + "}"));
        }
        assertThat(nodes).as("the deployments' tags cover every node").hasSize(RedisClusterExtension.NODES);

        RedisSettings s = RedisSettings.ofCluster(CLUSTER.uris(), Duration.ofSeconds(1), RedisSettings.FailurePolicy.FALLBACK);
        try (RedisState one = RedisState.connect(s, m -> { }); RedisState two = RedisState.connect(s, m -> { })) {
            DeploymentStateStore a = one.deploymentStateStore(deployments);
            RedisDeploymentStateStore b = (RedisDeploymentStateStore) two.deploymentStateStore(deployments);
            long now = RedisDeploymentStateStoreTest.nowWellInsideAMinute();
            long minute = Math.floorDiv(now, MINUTE);
            for (int i = 0; i < deployments.size(); i++) {
                a.addInFlight(i, i + 1);
                a.addUsage(i, minute, i + 1, 100L * (i + 1));
                a.recordOutcome(i, minute, false);
                a.setCooldownUntil(i, now + (i + 1) * 1_000_000_000L);
            }
            // Deployments on different nodes are synced over different connections, in no order
            // between them: wait until the other instance has seen every one.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(b.refresh(now, 500_000_000L) && seenAll(b, deployments.size(), now))) {
                assertThat(System.nanoTime() - deadline).as("the other instance sees the writes within 10 s").isNegative();
                Thread.sleep(20);
            }
            for (int i = 0; i < deployments.size(); i++) {
                assertThat(b.inFlight(i)).as("in flight of dep-" + i).isEqualTo(i + 1);
                assertThat(b.requestsInMinute(i, minute)).isEqualTo(i + 1);
                assertThat(b.tokensInMinute(i, minute)).isEqualTo(100L * (i + 1));
                assertThat(b.failuresInMinute(i, minute)).isEqualTo(1);
                assertThat(b.cooldownUntil(i)).isEqualTo(now + (i + 1) * 1_000_000_000L);
            }
            // each deployment's state is on the node of its own tag
            for (int i = 0; i < deployments.size(); i++) {
                String key = "{fl:d:dep-" + i + "}";
                assertThat(CLUSTER.onNodeOf(key, "HGET", key, "if")).isEqualTo(Long.toString(i + 1));
            }
        }
    }

    /**
     * With one node away (a cluster that serves the rest of its slots meanwhile), the deployments on
     * the other nodes are still shared: a refresh applies every answer it gets.
     */
    @Test
    void withANodeAwayTheDeploymentsOnTheOtherNodesAreStillShared() throws Exception {
        List<Deployment> deployments = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            deployments.add(Deployment.builder().id("away-" + i).modelName("m").model("mock/" + i).build());
        }
        int away = CLUSTER.nodeOf("{fl:d:away-0}");
        for (int i = 0; i < RedisClusterExtension.NODES; i++) {
            assertThat(CLUSTER.onNode(i, "CONFIG", "SET", "cluster-require-full-coverage", "no")).isEqualTo("OK");
        }
        RedisSettings s = RedisSettings.ofCluster(CLUSTER.uris(), Duration.ofSeconds(1), RedisSettings.FailurePolicy.FALLBACK);
        try (RedisState one = RedisState.connect(s, m -> { }); RedisState two = RedisState.connect(s, m -> { })) {
            DeploymentStateStore a = one.deploymentStateStore(deployments);
            RedisDeploymentStateStore b = (RedisDeploymentStateStore) two.deploymentStateStore(deployments);
            CLUSTER.stop(away);
            long now = RedisDeploymentStateStoreTest.nowWellInsideAMinute();
            List<Integer> reachable = new ArrayList<>();
            for (int i = 0; i < deployments.size(); i++) {
                a.addInFlight(i, 1);
                a.setCooldownUntil(i, now + 1_000_000_000L);
                if (CLUSTER.nodeOf("{fl:d:away-" + i + "}") != away) {
                    reachable.add(i);
                }
            }
            assertThat(reachable).as("some deployments on the other nodes").isNotEmpty().hasSizeLessThan(deployments.size());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!(b.refresh(now, 500_000_000L) && reachable.stream().allMatch(i -> b.inFlight(i) == 1
                    && b.cooldownUntil(i) == now + 1_000_000_000L))) {
                assertThat(System.nanoTime() - deadline).as("deployments on reachable nodes shared within 20 s").isNegative();
                Thread.sleep(50);
            }
            for (int i = 0; i < deployments.size(); i++) {
                if (!reachable.contains(i)) {
                    assertThat(b.inFlight(i)).as("away-" + i + " is on the stopped node").isZero();
                }
            }
        } finally {
            CLUSTER.start(away);
            for (int i = 0; i < RedisClusterExtension.NODES; i++) {
                CLUSTER.onNode(i, "CONFIG", "SET", "cluster-require-full-coverage", "yes");
            }
            CLUSTER.awaitOk();
        }
    }

    private static boolean seenAll(DeploymentStateStore b, int n, long now) {
        for (int i = 0; i < n; i++) {
            long minute = Math.floorDiv(now, MINUTE);
            if (b.inFlight(i) != i + 1 || b.requestsInMinute(i, minute) != i + 1 || b.failuresInMinute(i, minute) != 1
                    || b.cooldownUntil(i) != now + (i + 1) * 1_000_000_000L) {
                return false;
            }
        }
        return true;
    }
}
