package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long T0 = -5 * SECOND; // nanoTime may be negative; nothing may assume otherwise

    @Test
    void aFullBucketAdmitsExactlyTheLimitAtOnceThenTellsTheWaitToTheNanosecond() {
        TokenBucket bucket = new TokenBucket(60, Duration.ofMinutes(1));
        for (int i = 0; i < 60; i++) {
            assertThat(bucket.tryAcquire(1, T0)).as("request %d", i).isZero();
        }
        assertThat(bucket.tryAcquire(1, T0)).isEqualTo(SECOND);
        assertThat(bucket.tryAcquire(1, T0 + SECOND - 1)).isEqualTo(1);
        assertThat(bucket.tryAcquire(1, T0 + SECOND)).isZero();
        assertThat(bucket.tryAcquire(1, T0 + SECOND)).isEqualTo(SECOND);
    }

    @Test
    void aNewBucketIsFullWhateverTheClockReads() {
        for (long now : new long[] {Long.MIN_VALUE / 4, -1, 0, 1, Long.MAX_VALUE / 4}) {
            TokenBucket bucket = new TokenBucket(10, Duration.ofMinutes(1));
            assertThat(bucket.available(now)).as("at %d", now).isEqualTo(10);
            assertThat(bucket.tryAcquire(10, now)).isZero();
            assertThat(bucket.available(now)).isZero();
        }
    }

    @Test
    void refillIsContinuousAndNeverAboveTheLimit() {
        TokenBucket bucket = new TokenBucket(600, Duration.ofMinutes(1)); // one token every 100 ms
        assertThat(bucket.tryAcquire(600, T0)).isZero();
        assertThat(bucket.available(T0 + 250_000_000L)).isEqualTo(2);
        assertThat(bucket.available(T0 + 3600 * SECOND)).isEqualTo(600);
        assertThat(bucket.tryAcquire(601, T0 + 3600 * SECOND)).isEqualTo(RateLimit.NEVER);
    }

    @Test
    void aRateThatDoesNotDivideThePeriodRefillsSlowerNotFaster() {
        TokenBucket bucket = new TokenBucket(7, Duration.ofMinutes(1));
        assertThat(bucket.tryAcquire(7, T0)).isZero();
        // 60 s / 7 = 8.571428571... s: the interval is rounded up, so after one minute all 7 are not
        // quite back, and over an hour never more than 7 + 7 * 60 are admitted.
        assertThat(bucket.available(T0 + 60 * SECOND)).isEqualTo(6);
        long admitted = 7;
        for (long t = T0; t <= T0 + 3600 * SECOND; t += 100_000_000L) {
            if (bucket.tryAcquire(1, t) == 0) {
                admitted++;
            }
        }
        assertThat(admitted).isLessThanOrEqualTo(7 + 7 * 60);
        assertThat(admitted).isGreaterThanOrEqualTo(7 + 7 * 60 - 1);
    }

    @Test
    void refundsAreDepositsThatNeverOverfillTheBucket() {
        TokenBucket bucket = new TokenBucket(100, Duration.ofMinutes(1));
        assertThat(bucket.tryAcquire(80, T0)).isZero();
        bucket.refund(30, T0, T0);
        assertThat(bucket.available(T0)).isEqualTo(50);
        bucket.refund(1000, T0, T0);
        assertThat(bucket.available(T0)).isEqualTo(100);
        assertThat(bucket.tryAcquire(100, T0)).isZero();
        assertThat(bucket.tryAcquire(1, T0)).isPositive();
    }

    @Test
    void chargesGoIntoDebtThatLaterRequestsWaitOff() {
        TokenBucket bucket = new TokenBucket(60, Duration.ofMinutes(1));
        bucket.charge(120, T0);
        assertThat(bucket.available(T0)).isZero();
        assertThat(bucket.tryAcquire(1, T0)).isEqualTo(61 * SECOND);
        assertThat(bucket.tryAcquire(1, T0 + 61 * SECOND)).isZero();
    }

    @Test
    void aZeroLimitAdmitsNothingAndBadArgumentsSayWhatToFix() {
        TokenBucket closed = new TokenBucket(0, Duration.ofMinutes(1));
        assertThat(closed.tryAcquire(1, T0)).isEqualTo(RateLimit.NEVER);
        assertThat(closed.tryAcquire(0, T0)).isZero();
        assertThatThrownBy(() -> new TokenBucket(-3, Duration.ofMinutes(1)))
                .hasMessage("limit: -3 (expected: >= 0)");
        assertThatThrownBy(() -> new TokenBucket(1, Duration.ZERO))
                .hasMessage("period: PT0S (expected: > 0)");
        assertThatThrownBy(() -> closed.tryAcquire(-1, T0)).hasMessage("permits: -1 (expected: >= 0)");
    }

    @Test
    void tryAcquireAllTakesFromEveryLimitOrFromNone() {
        TokenBucket requests = new TokenBucket(10, Duration.ofMinutes(1));
        TokenBucket tokens = new TokenBucket(100, Duration.ofMinutes(1));
        SlidingWindow deployment = new SlidingWindow(3, Duration.ofMinutes(1));
        RateLimit[] all = {requests, tokens, deployment};
        assertThat(RateLimit.tryAcquireAll(all, new long[] {1, 40, 1}, T0)).isEqualTo(-1);
        assertThat(RateLimit.tryAcquireAll(all, new long[] {1, 70, 1}, T0)).isEqualTo(1);
        assertThat(requests.available(T0)).isEqualTo(9);
        assertThat(tokens.available(T0)).isEqualTo(60);
        assertThat(deployment.available(T0)).isEqualTo(2);
        assertThat(RateLimit.tryAcquireAll(all, new long[] {1, 10, 1}, T0)).isEqualTo(-1);
        assertThat(RateLimit.tryAcquireAll(all, new long[] {1, 10, 1}, T0)).isEqualTo(-1);
        assertThat(RateLimit.tryAcquireAll(all, new long[] {1, 10, 1}, T0)).isEqualTo(2);
        assertThat(requests.available(T0)).isEqualTo(7);
        assertThat(tokens.available(T0)).isEqualTo(40);
        assertThatThrownBy(() -> RateLimit.tryAcquireAll(all, new long[] {1}, T0))
                .hasMessage("permits: 1 entries (expected: one per limit, 3)");
    }
}
