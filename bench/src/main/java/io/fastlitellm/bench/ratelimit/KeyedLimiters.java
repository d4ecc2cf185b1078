package io.fastlitellm.bench.ratelimit;

import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimiter;
import io.fastlitellm.ratelimit.TickingClock;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The keyed limiters compared, behind one method: ours, Bucket4j's lock-free buckets in a
 * {@code ConcurrentHashMap}, Resilience4j's {@code AtomicRateLimiter}s in a {@code ConcurrentHashMap}.
 * Every one limits each key to {@link #LIMIT} requests a minute (high, so that the checks measured
 * are admissions) and creates a key's state on its first check.
 */
public final class KeyedLimiters {

    /** Requests per minute per key: far above what a run sends to one key. */
    public static final int LIMIT = 1_000_000_000;

    public static final List<String> NAMES = List.of("fast-litellm", "bucket4j", "resilience4j");

    /** One check of one request for one key; thread-safe. */
    public interface KeyedLimiter {
        boolean check(String key);

        /** The instance one thread should use: ours keeps its reusable permit per thread. */
        default KeyedLimiter forThread() {
            return this;
        }
    }

    private KeyedLimiters() {
    }

    /**
     * {@code maxKeys} sizes ours (the others grow as needed); {@code clock} is the clock ours is given
     * ({@code "ticking"} or {@code "nanotime"}); the peers read theirs inside.
     */
    public static KeyedLimiter create(String name, int maxKeys, String clock) {
        return switch (name) {
            case "fast-litellm" -> ours(maxKeys, clock(clock));
            case "bucket4j" -> bucket4j();
            case "resilience4j" -> resilience4j();
            default -> throw new IllegalArgumentException("impl: '" + name + "' (expected: one of " + NAMES + ")");
        };
    }

    /** Shared by every limiter of a run: a daemon thread, started once. */
    private static final class Ticking {
        static final TickingClock CLOCK = new TickingClock();
    }

    private static LongSupplier clock(String name) {
        return switch (name) {
            case "ticking" -> Ticking.CLOCK;
            case "nanotime" -> System::nanoTime;
            default -> throw new IllegalArgumentException("clock: '" + name + "' (expected: ticking or nanotime)");
        };
    }

    private static KeyedLimiter ours(int maxKeys, LongSupplier clock) {
        RateLimiter limiter = RateLimiter.inMemory(maxKeys, 1, clock);
        Limits limits = Limits.key(LIMIT, Limits.UNLIMITED, Limits.UNLIMITED);
        return new Ours(limiter, limits);
    }

    /** The check allocates nothing: one reusable permit per thread (the gateway allocates one per request). */
    private record Ours(RateLimiter limiter, Limits limits, Permit permit) implements KeyedLimiter {
        Ours(RateLimiter limiter, Limits limits) {
            this(limiter, limits, RateLimiter.newPermit());
        }

        @Override
        public boolean check(String key) {
            return limiter.tryAcquire(key, limits, 0, permit);
        }

        @Override
        public KeyedLimiter forThread() {
            return new Ours(limiter, limits);
        }
    }

    private static KeyedLimiter bucket4j() {
        ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
        Bandwidth bandwidth = Bandwidth.builder().capacity(LIMIT).refillGreedy(LIMIT, Duration.ofMinutes(1)).build();
        return key -> {
            Bucket bucket = buckets.get(key);
            if (bucket == null) {
                bucket = buckets.computeIfAbsent(key, k -> Bucket.builder().addLimit(bandwidth).build());
            }
            return bucket.tryConsume(1);
        };
    }

    private static KeyedLimiter resilience4j() {
        ConcurrentHashMap<String, AtomicRateLimiter> limiters = new ConcurrentHashMap<>();
        RateLimiterConfig config = RateLimiterConfig.custom()
                .limitForPeriod(LIMIT)
                .limitRefreshPeriod(Duration.ofMinutes(1))
                .timeoutDuration(Duration.ZERO)
                .build();
        return key -> {
            AtomicRateLimiter limiter = limiters.get(key);
            if (limiter == null) {
                limiter = limiters.computeIfAbsent(key, k -> new AtomicRateLimiter(k, config));
            }
            return limiter.acquirePermission();
        };
    }

    /** {@code n} distinct key strings shaped like LiteLLM virtual keys. */
    public static String[] keys(int n) {
        String[] keys = new String[n];
        for (int i = 0; i < n; i++) {
            keys[i] = "sk-live-" + i;
        }
        return keys;
    }
}
