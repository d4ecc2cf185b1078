package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads hammering shared keys. The clock is frozen (or moved only by the test) so that no refill
 * can happen during a run: the exact number admitted is then known in advance.
 */
class ConcurrencyTest {

    private static final int THREADS = 4;

    interface Worker {
        void run(int thread) throws Exception;
    }

    private static void hammer(Worker worker) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    worker.run(id);
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }

    /** {@link #hammer} while another thread runs {@code cleanup} in a loop. */
    private static void hammerWhileCleaning(Runnable cleanup, Worker worker) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        Thread cleaner = new Thread(() -> {
            while (running.get()) {
                cleanup.run();
            }
        });
        cleaner.start();
        try {
            hammer(worker);
        } finally {
            running.set(false);
            cleaner.join();
        }
    }

    @Test
    void threadsHammeringOneKeyNeverGetMoreThanTheLimit() throws InterruptedException {
        for (int run = 0; run < 20; run++) {
            RateLimiter limiter = RateLimiter.inMemory(16, 16, () -> 123_456_789L);
            Limits key = Limits.key(1000, Limits.UNLIMITED, Limits.UNLIMITED);
            AtomicInteger admitted = new AtomicInteger();
            hammer(thread -> {
                Permit p = RateLimiter.newPermit();
                for (int i = 0; i < 1000; i++) {
                    if (limiter.tryAcquire("sk-hot", key, 0, p)) {
                        admitted.incrementAndGet();
                    }
                }
            });
            assertThat(admitted.get()).isEqualTo(1000);
        }
    }

    @Test
    void tokenBucketAndSlidingWindowUnderContentionAdmitExactlyTheLimit() throws InterruptedException {
        for (RateLimit limit : new RateLimit[] {
                new TokenBucket(5000, Limits.MINUTE), new SlidingWindow(5000, Limits.MINUTE)}) {
            AtomicLong admitted = new AtomicLong();
            hammer(thread -> {
                SplittableRandom random = new SplittableRandom(thread);
                for (int i = 0; i < 2000; i++) {
                    long units = random.nextLong(1, 8);
                    if (limit.tryAcquire(units, 0) == 0) {
                        admitted.addAndGet(units);
                    }
                }
            });
            assertThat(admitted.get()).as(limit.getClass().getSimpleName())
                    .isLessThanOrEqualTo(5000).isGreaterThan(5000 - 8);
            assertThat(limit.available(0)).isEqualTo(5000 - admitted.get());
        }
    }

    @Test
    void severalLimitsStayAllOrNoneUnderContention() throws InterruptedException {
        for (int run = 0; run < 10; run++) {
            RateLimiter limiter = RateLimiter.inMemory(16, 16, () -> 0L);
            Limits key = Limits.key(300, 2000, 3);
            Limits deployment = Limits.deployment(250, 1800);
            AtomicLong requests = new AtomicLong();
            AtomicLong tokens = new AtomicLong();
            AtomicInteger inFlight = new AtomicInteger();
            AtomicInteger maxInFlight = new AtomicInteger();
            int seed = run;
            hammer(thread -> {
                SplittableRandom random = new SplittableRandom(seed * 31L + thread);
                for (int i = 0; i < 500; i++) {
                    long estimate = random.nextLong(1, 20);
                    Permit p = limiter.acquire("sk-a", key, "d1", deployment, estimate);
                    if (p.allowed()) {
                        int now = inFlight.incrementAndGet();
                        maxInFlight.accumulateAndGet(now, Math::max);
                        long used = random.nextLong(0, estimate + 1);
                        requests.incrementAndGet();
                        tokens.addAndGet(used);
                        inFlight.decrementAndGet();
                        p.reconcile(used);
                        p.release();
                    }
                }
            });
            assertThat(maxInFlight.get()).isLessThanOrEqualTo(3);
            // Every admitted request consumed from all four buckets, every refused one from none:
            // what is left in each is exactly the limit minus what the admitted ones used.
            Permit key0 = limiter.acquire("sk-a", key, 0);
            Permit dep0 = limiter.acquireDeployment("d1", deployment, 0);
            assertThat(requests.get()).isLessThanOrEqualTo(250);
            assertThat(tokens.get()).isLessThanOrEqualTo(1800);
            assertThat(key0.allowed()).isTrue();
            assertThat(key0.requestsRemaining()).isEqualTo(300 - requests.get() - 1);
            assertThat(key0.tokensRemaining()).isEqualTo(2000 - tokens.get());
            if (dep0.allowed()) {
                assertThat(dep0.requestsRemaining()).isEqualTo(250 - requests.get() - 1);
                assertThat(dep0.tokensRemaining()).isEqualTo(1800 - tokens.get());
            }
            key0.release();
            dep0.release();
            assertThat(((KeyTable) limiter.keys()).inFlight("sk-a")).isZero();
        }
    }

    @Test
    void evictionRacingChecksNeverLosesAConsumedRequestOrToken() throws InterruptedException {
        // Frozen clock: a request or token taken is back only when cancelled, and then the key is
        // idle again and the cleaner evicts it. Requests and tokens held at any moment must stay
        // within the limits, however the evictions interleave with the checks.
        RateLimiter limiter = RateLimiter.inMemory(8, 8, () -> 5L);
        Limits limits = Limits.key(2, 30, Limits.UNLIMITED);
        AtomicInteger[] requestsHeld = new AtomicInteger[4];
        AtomicInteger[] tokensHeld = new AtomicInteger[4];
        for (int k = 0; k < requestsHeld.length; k++) {
            requestsHeld[k] = new AtomicInteger();
            tokensHeld[k] = new AtomicInteger();
        }
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger admitted = new AtomicInteger();
        hammerWhileCleaning(() -> limiter.cleanup(5L), thread -> {
            SplittableRandom random = new SplittableRandom(100 + thread);
            for (int i = 0; i < 20_000; i++) {
                int k = random.nextInt(requestsHeld.length);
                int tokens = random.nextInt(1, 16);
                Permit p = limiter.acquire("sk-" + k, limits, tokens);
                if (p.allowed()) {
                    admitted.incrementAndGet();
                    int requests = requestsHeld[k].incrementAndGet();
                    int held = tokensHeld[k].addAndGet(tokens);
                    if (requests > 2 || held > 30) {
                        violations.incrementAndGet();
                    }
                    requestsHeld[k].decrementAndGet();
                    tokensHeld[k].addAndGet(-tokens);
                    p.cancel();
                }
            }
        });
        assertThat(violations.get()).isZero();
        assertThat(admitted.get()).isGreaterThan(1000);
        for (int k = 0; k < requestsHeld.length; k++) {
            Permit p = limiter.acquire("sk-" + k, limits, 0);
            assertThat(p.requestsRemaining()).as("sk-%d", k).isEqualTo(1);
            assertThat(p.tokensRemaining()).as("sk-%d", k).isEqualTo(30);
        }
    }

    @Test
    void evictionRacingChecksNeverLosesAParallelSlot() throws InterruptedException {
        // Keys with only a parallel limit are idle between requests, so the cleaner evicts them
        // constantly while other threads acquire and release: the slot protocol must keep each key
        // at most at its limit and never leak a slot.
        KeyTable table = new KeyTable(8);
        Limits one = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 1);
        AtomicInteger[] holders = new AtomicInteger[4];
        for (int k = 0; k < holders.length; k++) {
            holders[k] = new AtomicInteger();
        }
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger evictionsSeen = new AtomicInteger();
        hammerWhileCleaning(() -> {
            int before = table.size();
            table.cleanup(0);
            if (table.size() < before) {
                evictionsSeen.incrementAndGet();
            }
        }, thread -> {
            SplittableRandom random = new SplittableRandom(thread);
            Permit p = RateLimiter.newPermit();
            // 20,000 checks at least, and on until the cleaner has evicted something: on two busy
            // cores the cleaner thread may not even be scheduled within the first 20,000.
            for (int i = 0; i < 20_000 || evictionsSeen.get() == 0 && i < 50_000_000; i++) {
                int k = random.nextInt(holders.length);
                String key = "sk-" + k;
                if (table.tryAcquire(key, one, 0, 0, p)) {
                    if (holders[k].incrementAndGet() > 1) {
                        violations.incrementAndGet();
                    }
                    holders[k].decrementAndGet();
                    table.releaseParallel(key, one);
                }
            }
        });
        assertThat(violations.get()).isZero();
        assertThat(evictionsSeen.get()).isPositive();
        for (int k = 0; k < holders.length; k++) {
            assertThat(table.inFlight("sk-" + k)).isZero();
        }
    }
}
