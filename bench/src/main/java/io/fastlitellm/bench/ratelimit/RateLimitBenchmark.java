package io.fastlitellm.bench.ratelimit;

import io.fastlitellm.bench.ratelimit.KeyedLimiters.KeyedLimiter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One rate-limit check of a Zipf-distributed key (exponent 0.99), ours beside Bucket4j and
 * Resilience4j ({@code impl} is a {@code @Param}, so all three run in one JMH run on the same key
 * sequence). Run it with:
 *
 * <pre>
 * ./fast-litellm bench ratelimit --help   # builds bench/target/fast-litellm.jar if needed
 * java -cp bench/target/fast-litellm.jar org.openjdk.jmh.Main RateLimitBenchmark \
 *     -wi 2 -i 3 -f 1 -w 1s -r 1s -t 1
 * </pre>
 *
 * Add {@code -t 2} for two threads, {@code -p keys=1000} for one size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RateLimitBenchmark {

    @Param({"fast-litellm", "bucket4j", "resilience4j"})
    public String impl;

    @Param({"1000", "1000000"})
    public int keys;

    /** The clock ours is given; see {@link io.fastlitellm.ratelimit.TickingClock}. */
    @Param({"ticking"})
    public String clock;

    private static final int ORDER_LENGTH = 1 << 20;

    KeyedLimiter limiter;
    String[] keyStrings;
    int[] order;

    @Setup(Level.Trial)
    public void setUp() {
        keyStrings = KeyedLimiters.keys(keys);
        order = KeyOrder.zipf(keys, ORDER_LENGTH, 0.99, 7);
        limiter = KeyedLimiters.create(impl, keys, clock);
        for (String key : keyStrings) {
            limiter.check(key);
        }
    }

    /** Each thread walks the shared Zipf sequence from its own offset, with its own handle. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        KeyedLimiter mine;

        @Setup(Level.Trial)
        public void setUp(RateLimitBenchmark shared) {
            next = (int) (Thread.currentThread().threadId() * 7919) & (ORDER_LENGTH - 1);
            mine = shared.limiter.forThread();
        }
    }

    @Benchmark
    public boolean check(Cursor cursor) {
        int i = cursor.next;
        cursor.next = (i + 1) & (ORDER_LENGTH - 1);
        return cursor.mine.check(keyStrings[order[i]]);
    }
}
