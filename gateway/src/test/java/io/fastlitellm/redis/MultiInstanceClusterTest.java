package io.fastlitellm.redis;

import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link MultiInstanceContract} on a three-primary Redis Cluster, given to the gateways as LiteLLM's
 * {@code REDIS_CLUSTER_NODES} environment variable; "Redis stopped" stops every node.
 */
class MultiInstanceClusterTest extends MultiInstanceContract {
    @RegisterExtension
    static final RedisClusterExtension CLUSTER = new RedisClusterExtension();

    @Override
    protected String redisSettings() {
        return "";
    }

    @Override
    protected Map<String, String> environment() {
        return Map.of("REDIS_CLUSTER_NODES", CLUSTER.startupNodesJson());
    }

    @Override
    protected void stopRedis() {
        for (int i = 0; i < RedisClusterExtension.NODES; i++) {
            CLUSTER.stop(i);
        }
    }

    @Override
    protected void startRedis() throws Exception {
        for (int i = 0; i < RedisClusterExtension.NODES; i++) {
            CLUSTER.start(i);
        }
        CLUSTER.awaitOk();
    }
}
