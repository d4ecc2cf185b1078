package io.fastlitellm.redis;

import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link MultiInstanceContract} on one {@code redis-server}, given to the gateways as {@code redis_url}. */
class MultiInstanceTest extends MultiInstanceContract {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    @Override
    protected String redisSettings() {
        return "  redis_url: " + REDIS.uri();
    }

    @Override
    protected void stopRedis() {
        REDIS.stop();
    }

    @Override
    protected void startRedis() throws Exception {
        REDIS.start();
    }
}
