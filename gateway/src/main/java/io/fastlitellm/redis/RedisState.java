package io.fastlitellm.redis;

import io.fastlitellm.ratelimit.LimitStore;
import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.DeploymentStateStore;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The state several gateway instances share through one Redis: rate limits of keys and deployments
 * ({@link #limitStore}), and the router's per-deployment usage, in-flight counts and cooldowns
 * ({@link #deploymentStateStore}).
 *
 * <pre>{@code
 * RedisState redis = RedisState.connect(settings, System.err::println);
 * RateLimiter limiter = new RateLimiter(redis.limitStore("k", 100_000), redis.limitStore("d", 1_000), System::nanoTime);
 * Router router = Router.builder(deployments, routerSettings)
 *         .nanoTime(redis.clock()).stateStore(redis::deploymentStateStore).build();
 * redis.afterRefresh(router::refreshFromStore);
 * }</pre>
 *
 * <p>Promises: {@link #connect} never fails because Redis is down (it connects in the background);
 * no method waits for Redis longer than {@link RedisSettings#budget()} on a request's path; see
 * {@link RedisSettings.FailurePolicy} for what a check does meanwhile. Thread-safe.
 */
public final class RedisState implements AutoCloseable {

    /** How often the router's view of other instances' usage and cooldowns is brought up to date. */
    public static final long REFRESH_MILLIS = 100;

    private static final LongSupplier WALL_CLOCK = wallClock();

    /** Named here so that their classes (which register them) are loaded before the first connect. */
    static final List<RedisLink.Script> SCRIPTS = List.of(RedisLimitStore.LIMITS,
            RedisDeploymentStateStore.SYNC, RedisDeploymentStateStore.COOLDOWN);

    private final RedisLink link;
    private final ScriptBatcher limitBatches;
    private final SharedStateMetrics metrics;
    private final List<RedisDeploymentStateStore> routerStores = new CopyOnWriteArrayList<>();
    private final List<Runnable> afterRefresh = new CopyOnWriteArrayList<>();

    private RedisState(RedisSettings settings, Consumer<String> log, LongSupplier nanoTime) {
        this.link = new RedisLink(settings, log);
        this.limitBatches = new ScriptBatcher(link, RedisLimitStore.LIMITS);
        this.metrics = new SharedStateMetrics(nanoTime, log);
        link.background().scheduleWithFixedDelay(this::refresh, REFRESH_MILLIS, REFRESH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Starts using the Redis {@code settings} names; warnings go to {@code log}. */
    public static RedisState connect(RedisSettings settings, Consumer<String> log) {
        return connect(settings, log, System::nanoTime);
    }

    /** As {@link #connect(RedisSettings, Consumer)}, with the clock that spaces fallback warnings. */
    static RedisState connect(RedisSettings settings, Consumer<String> log, LongSupplier nanoTime) {
        return new RedisState(Objects.requireNonNull(settings, "settings"), Objects.requireNonNull(log, "log"), nanoTime);
    }

    /**
     * A limit store on Redis under the namespace {@code scope} (one per kind of thing limited: keys
     * and deployments must not share state), falling back to an in-memory store for up to
     * {@code maxLocalKeys} keys when Redis cannot answer.
     */
    public LimitStore limitStore(String scope, int maxLocalKeys) {
        return limitStore(scope, maxLocalKeys, SharedStateUnavailableException::new);
    }

    /**
     * As {@link #limitStore(String, int)}; under {@link RedisSettings.FailurePolicy#REFUSE} a check
     * Redis cannot answer throws {@code refusal.apply(message)} (a gateway's own 503 error), or, when
     * {@code refusal} is null, is denied as {@link io.fastlitellm.ratelimit.Permit#CAPACITY} with a
     * one-second retry (for checks made where an exception cannot be answered, such as a retry timer).
     */
    public LimitStore limitStore(String scope, int maxLocalKeys,
                                 java.util.function.Function<String, ? extends RuntimeException> refusal) {
        if (scope == null || scope.isEmpty() || scope.indexOf('{') >= 0 || scope.indexOf('}') >= 0 || scope.indexOf(':') >= 0) {
            throw new IllegalArgumentException("scope: '" + scope + "' (expected: a short name without '{', '}' or ':', such as \"k\")");
        }
        return new RedisLimitStore(link, limitBatches, scope, LimitStore.inMemory(maxLocalKeys), metrics, refusal);
    }

    /**
     * A router state store on Redis for these deployments, for {@code Router.Builder.stateStore}.
     * The router's clock must be {@link #clock()}.
     */
    public DeploymentStateStore deploymentStateStore(List<Deployment> deployments) {
        RedisDeploymentStateStore store = new RedisDeploymentStateStore(link, deployments);
        routerStores.add(store);
        store.refresh(WALL_CLOCK.getAsLong(), TimeUnit.SECONDS.toNanos(1));
        return store;
    }

    /** Runs {@code action} (typically {@code router::refreshFromStore}) after each successful refresh. */
    public void afterRefresh(Runnable action) {
        afterRefresh.add(Objects.requireNonNull(action, "action"));
    }

    /**
     * The clock routers sharing state must use: nanoseconds since the epoch, read as the wall clock
     * once and then advanced by {@link System#nanoTime}, so it is monotonic in this process and agrees
     * with other hosts' as far as their wall clocks agree (NTP: milliseconds). Minutes and cooldown
     * deadlines written to Redis are on it; rate limits are not (they use Redis's own clock).
     */
    public static LongSupplier clock() {
        return WALL_CLOCK;
    }

    private static LongSupplier wallClock() {
        Instant now = Instant.now();
        long base = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
        return () -> base + System.nanoTime();
    }

    /** Whether Redis is connected now. */
    public boolean connected() {
        return link.up();
    }

    public SharedStateMetrics metrics() {
        return metrics;
    }

    private void refresh() {
        try {
            boolean any = false;
            for (RedisDeploymentStateStore s : routerStores) {
                any |= s.refresh(WALL_CLOCK.getAsLong(), TimeUnit.MILLISECONDS.toNanos(500));
            }
            if (any) {
                for (Runnable r : afterRefresh) {
                    r.run();
                }
            }
        } catch (RuntimeException e) {
            // A failed refresh leaves the mirror as it was; the next one tries again.
        }
    }

    @Override
    public void close() {
        link.close();
    }
}
