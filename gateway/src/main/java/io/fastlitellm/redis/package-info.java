/**
 * Shared state for several gateway instances, on one Redis or a Redis Cluster (Lettuce): {@link io.fastlitellm.redis.RedisState}
 * hands out a {@link io.fastlitellm.ratelimit.LimitStore} whose every check is one atomic Lua script
 * on Redis's clock, and a {@link io.fastlitellm.router.DeploymentStateStore} that serves the router
 * from a local mirror synced every 100 ms. {@link io.fastlitellm.redis.RedisSettings} reads LiteLLM's
 * {@code redis_*} settings and says what happens when Redis cannot answer within its budget.
 * Everything else here is package-private. Design, script contracts and failure policy:
 * docs/redis.md.
 */
package io.fastlitellm.redis;
