package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong clock = new AtomicLong(-42 * SECOND);
    private final RateLimiter limiter = RateLimiter.inMemory(1000, 100, clock::get);

    @Test
    void rpmLimit20AdmitsExactly20ThenRefusesWithRetryAfterToTheMillisecond() {
        Limits key = Limits.key(20, Limits.UNLIMITED, Limits.UNLIMITED);
        for (int i = 0; i < 20; i++) {
            Permit p = limiter.acquire("sk-a", key, 0);
            assertThat(p.allowed()).as("request %d", i).isTrue();
            assertThat(p.requestLimit()).isEqualTo(20);
            assertThat(p.requestsRemaining()).isEqualTo(19 - i);
        }
        Permit refused = limiter.acquire("sk-a", key, 0);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.deniedLimit()).isEqualTo("key rpm_limit");
        assertThat(refused.deniedLimitKind()).isEqualTo(Permit.REQUESTS);
        assertThat(refused.retryAfterMillis()).isEqualTo(3000); // one request every 60 s / 20
        clock.addAndGet(2999 * 1_000_000L + 1);
        assertThat(limiter.acquire("sk-a", key, 0).retryAfterMillis()).isEqualTo(1);
        clock.addAndGet(999_999);
        assertThat(limiter.acquire("sk-a", key, 0).allowed()).isTrue();
        assertThat(limiter.acquire("sk-a", key, 0).allowed()).isFalse();
        // Another key is untouched.
        assertThat(limiter.acquire("sk-b", key, 0).requestsRemaining()).isEqualTo(19);
    }

    @Test
    void aNewKeyReportsFullBucketsWhateverTheClockReads() {
        for (long now : new long[] {Long.MIN_VALUE / 4, 0, 1, Long.MAX_VALUE / 4}) {
            clock.set(now);
            Permit p = limiter.acquire("sk-" + now, Limits.key(10, 1000, 2), 0);
            assertThat(p.allowed()).isTrue();
            assertThat(p.requestsRemaining()).isEqualTo(9);
            assertThat(p.tokensRemaining()).isEqualTo(1000);
            p.release();
        }
    }

    @Test
    void tpmReservesTheEstimateAndReconcilesWithRealUsage() {
        Limits key = Limits.key(Limits.UNLIMITED, 1000, Limits.UNLIMITED);
        long estimate = RateLimiter.estimateTokens(100, 500, 256);
        assertThat(estimate).isEqualTo(600);
        assertThat(RateLimiter.estimateTokens(100, -1, 256)).isEqualTo(356);

        Permit first = limiter.acquire("sk-a", key, estimate);
        assertThat(first.tokensRemaining()).isEqualTo(400);
        assertThat(limiter.acquire("sk-a", key, estimate).deniedLimit()).isEqualTo("key tpm_limit");
        first.reconcile(150); // used less: 450 come back
        first.reconcile(10_000); // once only
        Permit second = limiter.acquire("sk-a", key, estimate);
        assertThat(second.allowed()).isTrue();
        assertThat(second.tokensRemaining()).isEqualTo(250);
        second.reconcile(850); // used more: 250 charged, the bucket is empty
        Permit third = limiter.acquire("sk-a", key, 1);
        assertThat(third.allowed()).isFalse();
        assertThat(third.retryAfterMillis()).isEqualTo(60); // one token every 60 ms
        assertThat(limiter.acquire("sk-a", key, 1001).retryAfterMillis()).isEqualTo(-1); // never fits
    }

    @Test
    void aFailedCallRefundsItsWholeReservation() {
        Limits key = Limits.key(10, 1000, Limits.UNLIMITED);
        Permit p = limiter.acquire("sk-a", key, 900);
        p.fail();
        Permit again = limiter.acquire("sk-a", key, 1000);
        assertThat(again.allowed()).isTrue();
        assertThat(again.requestsRemaining()).isEqualTo(8); // the failed request itself still counts
    }

    @Test
    void maxParallelRequestsHoldsUntilReleased() {
        Limits key = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 2);
        Permit a = limiter.acquire("sk-a", key, 0);
        Permit b = limiter.acquire("sk-a", key, 0);
        Permit c = limiter.acquire("sk-a", key, 0);
        assertThat(a.allowed()).isTrue();
        assertThat(b.allowed()).isTrue();
        assertThat(c.allowed()).isFalse();
        assertThat(c.deniedLimit()).isEqualTo("key max_parallel_requests");
        assertThat(c.retryAfterMillis()).isZero();
        a.release();
        a.release(); // idempotent: must not free b's slot
        assertThat(limiter.acquire("sk-a", key, 0).allowed()).isTrue();
        assertThat(limiter.acquire("sk-a", key, 0).allowed()).isFalse();
    }

    @Test
    void aRefusalConsumesNothingFromTheLimitsThatPassed() {
        Limits key = Limits.key(5, 100, 1);
        Permit holding = limiter.acquire("sk-a", key, 10);
        Permit refused = limiter.acquire("sk-a", key, 10); // rpm and tpm pass, parallel refuses
        assertThat(refused.deniedLimit()).isEqualTo("key max_parallel_requests");
        Permit tooBig = limiter.acquire("sk-a", key, 95); // rpm passes, tpm refuses
        assertThat(tooBig.deniedLimit()).isEqualTo("key tpm_limit");
        holding.reconcile(10);
        holding.release();
        Permit next = limiter.acquire("sk-a", key, 0);
        assertThat(next.requestsRemaining()).isEqualTo(3);
        assertThat(next.tokensRemaining()).isEqualTo(90);
    }

    @Test
    void keyAndDeploymentTogetherAreAllOrNoneAndReportTheTightestLimit() {
        Limits key = Limits.key(100, 10_000, 10);
        Limits deployment = Limits.deployment(2, 1_000_000);
        Permit p1 = limiter.acquire("sk-a", key, "azure-eu", deployment, 50);
        assertThat(p1.allowed()).isTrue();
        assertThat(p1.requestLimit()).isEqualTo(2); // the deployment has the least left
        assertThat(p1.requestsRemaining()).isEqualTo(1);
        assertThat(p1.tokenLimit()).isEqualTo(10_000);
        assertThat(p1.tokensRemaining()).isEqualTo(9_950);
        assertThat(limiter.acquire("sk-a", key, "azure-eu", deployment, 50).allowed()).isTrue();

        Permit refused = limiter.acquire("sk-a", key, "azure-eu", deployment, 50);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.deniedLimit()).isEqualTo("deployment rpm");
        assertThat(refused.retryAfterMillis()).isEqualTo(30_000);
        refused.release(); // nothing to release: must not free another request's slot

        // The key was charged only for the two admitted requests, and still holds their 2 slots.
        Permit probe = limiter.acquire("sk-a", key, 0);
        assertThat(probe.requestsRemaining()).isEqualTo(97);
        assertThat(probe.tokensRemaining()).isEqualTo(9_900);
        assertThat(((KeyTable) limiter.keys()).inFlight("sk-a")).isEqualTo(3);
    }

    @Test
    void twoStepRoutingCanTryAnotherDeploymentAndCancelTheKeyWhenNoneAdmits() {
        Limits key = Limits.key(10, 1000, 1);
        Limits full = Limits.deployment(0, Limits.UNLIMITED);
        Permit keyPermit = limiter.acquire("sk-a", key, 100);
        Permit first = limiter.acquireDeployment("d1", full, 100);
        assertThat(first.allowed()).isFalse();
        assertThat(first.retryAfterMillis()).isEqualTo(-1);
        Permit second = limiter.acquireDeployment("d2", Limits.deployment(5, 500), 100);
        assertThat(second.allowed()).isTrue();
        keyPermit.and(second);
        assertThat(keyPermit.tokenLimit()).isEqualTo(500);
        assertThat(keyPermit.tokensRemaining()).isEqualTo(400);
        keyPermit.reconcile(40);
        keyPermit.release();
        assertThat(limiter.acquireDeployment("d2", Limits.deployment(5, 500), 0).tokensRemaining()).isEqualTo(460);

        Permit lonely = limiter.acquire("sk-a", key, 100);
        lonely.cancel(); // no deployment admitted it: as if it never came
        Permit after = limiter.acquire("sk-a", key, 0);
        assertThat(after.requestsRemaining()).isEqualTo(8);
        assertThat(after.tokensRemaining()).isEqualTo(960);
    }

    @Test
    void unlimitedKeysAndTheHeadersOfNoLimit() {
        Permit master = limiter.acquire("sk-master", Limits.key(Limits.UNLIMITED, Limits.UNLIMITED,
                Limits.UNLIMITED), 1_000_000);
        assertThat(master.allowed()).isTrue();
        assertThat(master.requestLimit()).isEqualTo(-1);
        assertThat(master.tokensRemaining()).isEqualTo(-1);
        assertThat(limiter.keys().size()).isZero(); // nothing stored for an unlimited key
    }

    @Test
    void customScopesAndPeriods() {
        Limits team = Limits.of("team", 3, Limits.UNLIMITED, Limits.UNLIMITED, Duration.ofSeconds(1));
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("team-1", team, 0).allowed()).isTrue();
        }
        Permit refused = limiter.acquire("team-1", team, 0);
        assertThat(refused.deniedLimit()).isEqualTo("team requests");
        assertThat(refused.retryAfterMillis()).isEqualTo(334); // ceil(1 s / 3) rounded up to ms
    }

    @Test
    void badInputSaysWhatToFix() {
        assertThatThrownBy(() -> Limits.key(-3, 1, 1))
                .hasMessage("requests: -3 (expected: >= 0, or Limits.UNLIMITED)");
        assertThatThrownBy(() -> Limits.deployment(1, -2))
                .hasMessage("tokens: -2 (expected: >= 0, or Limits.UNLIMITED)");
        assertThatThrownBy(() -> Limits.of(" ", 1, 1, 1, Duration.ofMinutes(1)))
                .hasMessage("scope: ' ' (expected: a name such as \"team\")");
        assertThatThrownBy(() -> limiter.acquire("k", Limits.key(1, 1, 1), -1))
                .hasMessage("estimatedTokens: -1 (expected: >= 0)");
        assertThatThrownBy(() -> RateLimiter.estimateTokens(-1, 0, 0))
                .hasMessage("promptTokens: -1 (expected: >= 0)");
        assertThatThrownBy(() -> LimitStore.inMemory(0))
                .hasMessage("maxKeys: 0 (expected: 1..268435456)");
        Permit p = limiter.acquire("k", Limits.key(1, 10, 1), 1);
        assertThatThrownBy(() -> p.reconcile(-5)).hasMessage("actualTokens: -5 (expected: >= 0)");
    }
}
