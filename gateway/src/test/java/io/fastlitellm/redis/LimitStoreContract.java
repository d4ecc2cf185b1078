package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.ratelimit.LimitStore;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LimitStore} promises, run against each backend (the in-memory one and the
 * Redis one), as Bucket4j's TCK does: a subclass supplies fresh stores, the clock the limiter
 * passes, and how to let time pass.
 *
 * <p>Limits here are per minute unless a test is about refill, so the few milliseconds a backend
 * takes never refill anything a test counts.
 */
abstract class LimitStoreContract {

    /** A store with no state (a fresh namespace). */
    protected abstract LimitStore newStore();

    /** The clock the limiter reads and passes to the store. */
    protected abstract LongSupplier clock();

    /** Lets at least {@code d} pass for the store. */
    protected abstract void advance(Duration d) throws InterruptedException;

    private RateLimiter limiter;

    @BeforeEach
    void freshLimiter() {
        limiter = new RateLimiter(newStore(), newStore(), clock());
    }

    private int admitted(String key, Limits limits, long tokens, int tries) {
        int ok = 0;
        for (int i = 0; i < tries; i++) {
            if (limiter.acquire(key, limits, tokens).allowed()) {
                ok++;
            }
        }
        return ok;
    }

    @Test
    void anRpmLimitAdmitsExactlyTheLimitThenRefusesWithRetryAfter() {
        Limits rpm5 = Limits.key(5, Limits.UNLIMITED, Limits.UNLIMITED);
        for (int i = 1; i <= 5; i++) {
            Permit p = limiter.acquire("k", rpm5, 0);
            assertThat(p.allowed()).as("request " + i).isTrue();
            assertThat(p.requestsRemaining()).isEqualTo(5 - i);
            assertThat(p.requestLimit()).isEqualTo(5);
        }
        Permit denied = limiter.acquire("k", rpm5, 0);
        assertThat(denied.allowed()).isFalse();
        assertThat(denied.deniedLimitKind()).isEqualTo(Permit.REQUESTS);
        assertThat(denied.deniedLimit()).isEqualTo("key rpm_limit");
        // one request refills every 12 s
        assertThat(denied.retryAfterMillis()).isBetween(1L, 12_000L);
    }

    @Test
    void aZeroLimitRefusesEverythingAndNoWaitHelps() {
        Permit p = limiter.acquire("k", Limits.key(0, Limits.UNLIMITED, Limits.UNLIMITED), 0);
        assertThat(p.allowed()).isFalse();
        assertThat(p.retryAfterMillis()).isEqualTo(-1);
    }

    @Test
    void tokensAreReservedAndARequestLargerThanTheLimitCanNeverPass() {
        Limits tpm100 = Limits.key(Limits.UNLIMITED, 100, Limits.UNLIMITED);
        assertThat(limiter.acquire("k", tpm100, 40).allowed()).isTrue();
        Permit second = limiter.acquire("k", tpm100, 40);
        assertThat(second.allowed()).isTrue();
        assertThat(second.tokensRemaining()).isEqualTo(20);
        Permit third = limiter.acquire("k", tpm100, 40);
        assertThat(third.allowed()).isFalse();
        assertThat(third.deniedLimitKind()).isEqualTo(Permit.TOKENS);
        assertThat(third.retryAfterMillis()).isPositive();
        Permit huge = limiter.acquire("other", tpm100, 101);
        assertThat(huge.allowed()).isFalse();
        assertThat(huge.retryAfterMillis()).isEqualTo(-1);
    }

    @Test
    void allOrNothingARefusalOnTokensConsumesNoRequest() {
        Limits both = Limits.key(3, 100, Limits.UNLIMITED);
        assertThat(limiter.acquire("k", both, 150).allowed()).isFalse();
        assertThat(limiter.acquire("k", both, 90).allowed()).isTrue();
        for (int i = 0; i < 4; i++) {
            assertThat(limiter.acquire("k", both, 20).allowed()).isFalse(); // tokens refuse; requests untouched
        }
        assertThat(admitted("k", both, 0, 5)).isEqualTo(2);
    }

    @Test
    void reconcileRefundsUnusedTokensAndChargesOverruns() {
        Limits tpm100 = Limits.key(Limits.UNLIMITED, 100, Limits.UNLIMITED);
        Permit p = limiter.acquire("k", tpm100, 80);
        p.reconcile(10);
        assertThat(limiter.acquire("k", tpm100, 80).allowed()).isTrue(); // 10 + 80 used
        Permit q = limiter.acquire("j", tpm100, 10);
        q.reconcile(95); // the upstream used more than reserved: charged
        assertThat(limiter.acquire("j", tpm100, 10).allowed()).isFalse();
        assertThat(limiter.acquire("j", tpm100, 5).allowed()).isTrue();
    }

    @Test
    void maxParallelHoldsUntilARequestEnds() {
        Limits two = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 2);
        Permit a = limiter.acquire("k", two, 0);
        Permit b = limiter.acquire("k", two, 0);
        Permit c = limiter.acquire("k", two, 0);
        assertThat(a.allowed()).isTrue();
        assertThat(b.allowed()).isTrue();
        assertThat(c.allowed()).isFalse();
        assertThat(c.deniedLimitKind()).isEqualTo(Permit.PARALLEL);
        assertThat(c.retryAfterMillis()).isZero();
        a.release();
        a.release(); // idempotent
        assertThat(limiter.acquire("k", two, 0).allowed()).isTrue();
        assertThat(limiter.acquire("k", two, 0).allowed()).isFalse();
    }

    /** finish = reconcile + release, as one store call, each part once whatever was done before. */
    @Test
    void finishReconcilesAndReleasesOnceForKeyAndDeployment() {
        Limits key = Limits.key(Limits.UNLIMITED, 100, 1);
        Limits dep = Limits.deployment(Limits.UNLIMITED, 100);
        Permit p = limiter.acquire("k", key, "d", dep, 80);
        assertThat(p.allowed()).isTrue();
        p.finish(10);
        p.finish(10);    // once: a second finish refunds and frees nothing more
        p.release();     // nor a release after it
        p.reconcile(0);  // nor a reconcile after it
        // 10 of 100 tokens used on both, the key's slot free again: 90 more pass, once (one slot)
        Permit q = limiter.acquire("k", key, "d", dep, 90);
        assertThat(q.allowed()).as(q.toString()).isTrue();
        assertThat(limiter.acquire("k", key, 0).deniedLimitKind()).isEqualTo(Permit.PARALLEL);
        q.reconcile(95); // charged 5 beyond the reservation: 105 used, the buckets in debt
        q.finish(0);     // the reconcile stands; only the slot is freed
        assertThat(limiter.acquire("k", key, 0).allowed()).isTrue();
        assertThat(limiter.acquireDeployment("d", dep, 1).allowed()).isFalse();
    }

    @Test
    void aParallelRefusalGivesBackTheRequestAndTokensItTook() {
        Limits l = Limits.key(3, 100, 1);
        Permit first = limiter.acquire("k", l, 30);
        assertThat(first.allowed()).isTrue();
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.acquire("k", l, 30).deniedLimitKind()).isEqualTo(Permit.PARALLEL);
        }
        first.reconcile(30);
        first.release();
        assertThat(limiter.acquire("k", l, 30).allowed()).isTrue(); // requests 2 of 3, tokens 60 of 100
    }

    @Test
    void cancelUndoesTheRequestTheTokensAndTheSlot() {
        Limits l = Limits.key(1, 50, 1);
        Permit p = limiter.acquire("k", l, 50);
        assertThat(p.allowed()).isTrue();
        p.cancel();
        Permit again = limiter.acquire("k", l, 50);
        assertThat(again.allowed()).as(again.toString()).isTrue();
    }

    @Test
    void keysAndDeploymentsAreIndependent() {
        Limits one = Limits.key(1, Limits.UNLIMITED, Limits.UNLIMITED);
        assertThat(limiter.acquire("a", one, 0).allowed()).isTrue();
        assertThat(limiter.acquire("a", one, 0).allowed()).isFalse();
        assertThat(limiter.acquire("b", one, 0).allowed()).isTrue();
        // a deployment named like a key has its own state
        assertThat(limiter.acquireDeployment("a", Limits.deployment(1, Limits.UNLIMITED), 0).allowed()).isTrue();
    }

    @Test
    void aDeploymentRefusalLeavesTheKeyUncharged() {
        Limits key = Limits.key(2, Limits.UNLIMITED, Limits.UNLIMITED);
        Limits dep = Limits.deployment(1, Limits.UNLIMITED);
        assertThat(limiter.acquire("k", key, "d", dep, 0).allowed()).isTrue();
        Permit refused = limiter.acquire("k", key, "d", dep, 0);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.deniedLimit()).isEqualTo("deployment rpm");
        assertThat(limiter.acquire("k", key, 0).allowed()).isTrue(); // the key still had its second request
    }

    /**
     * Key and deployment checked as one, without waiting (what the gateway does on a shared store):
     * both are taken or neither, whichever refuses, with tokens and parallel slots too.
     */
    @Test
    void keyAndDeploymentAsOneTakeBothOrNeither() throws Exception {
        Limits key = Limits.key(1, 100, 1);
        Limits dep = Limits.deployment(1, 100);
        RateLimiter.KeyAndDeployment first = limiter.acquireAsync("k", key, "d1", dep, 60).get(10, TimeUnit.SECONDS);
        assertThat(first.allowed()).isTrue();
        assertThat(first.key().requestsRemaining()).isZero();
        assertThat(first.deployment().tokensRemaining()).isEqualTo(40);

        // d1 refuses (rpm) a fresh key: the key keeps its request, tokens and slot.
        RateLimiter.KeyAndDeployment depRefused = limiter.acquireAsync("k2", key, "d1", dep, 60).get(10, TimeUnit.SECONDS);
        assertThat(depRefused.allowed()).isFalse();
        assertThat(depRefused.key().allowed()).isTrue();
        assertThat(depRefused.deployment().deniedLimit()).isEqualTo("deployment rpm");
        depRefused.key().release(); // holds nothing: does nothing
        assertThat(limiter.acquireAsync("k2", key, "d2", dep, 100).get(10, TimeUnit.SECONDS).allowed()).isTrue();

        // k refuses (its one request is spent): d3 is not touched, another key gets it whole.
        RateLimiter.KeyAndDeployment keyRefused = limiter.acquireAsync("k", key, "d3", dep, 100).get(10, TimeUnit.SECONDS);
        assertThat(keyRefused.allowed()).isFalse();
        assertThat(keyRefused.key().deniedLimit()).isEqualTo("key rpm_limit");
        assertThat(keyRefused.deployment().allowed()).isFalse();
        assertThat(keyRefused.deployment().deniedLimit()).isNull();
        assertThat(limiter.acquireAsync("k3", key, "d3", dep, 100).get(10, TimeUnit.SECONDS).allowed()).isTrue();

        // The first request's slot is still held (a parallel limit of 1 refuses), until released.
        Limits oneInFlight = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 1);
        assertThat(limiter.acquire("k", oneInFlight, 0).deniedLimitKind()).isEqualTo(Permit.PARALLEL);
        first.key().release();
        first.deployment().release();
        assertThat(limiter.acquire("k", oneInFlight, 0).allowed()).isTrue();
    }

    @Test
    void bucketsRefillAtTheLimitsRateAndNoFaster() throws InterruptedException {
        Limits l = Limits.of("t", 2, Limits.UNLIMITED, Limits.UNLIMITED, Duration.ofMillis(400));
        assertThat(admitted("k", l, 0, 3)).isEqualTo(2);
        advance(Duration.ofMillis(450));
        // full again, but a bucket never holds more than its limit
        assertThat(admitted("k", l, 0, 3)).isEqualTo(2);
    }

    @Test
    void concurrentChecksNeverAdmitBeyondTheLimit() throws Exception {
        Limits rpm60 = Limits.key(60, Limits.UNLIMITED, Limits.UNLIMITED);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            AtomicInteger ok = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 25; i++) {
                        if (limiter.acquire("hot", rpm60, 0).allowed()) {
                            ok.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(ok.get()).isEqualTo(60);
        } finally {
            pool.shutdownNow();
        }
    }
}
