package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {

    private static final long SECOND = 1_000_000_000L;
    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void noDoublingAtTheEdgeOfAMinute() {
        SlidingWindow window = new SlidingWindow(60, MINUTE);
        long t = 59 * SECOND + 900_000_000L;
        assertThat(window.tryAcquire(60, t)).isZero();
        // A fixed window would start over at 60 s; this one still holds the 60 taken 100 ms ago.
        assertThat(window.tryAcquire(1, 60 * SECOND)).isPositive();
        assertThat(window.tryAcquire(1, 119 * SECOND)).isPositive();
        // The 60 were counted in the slot [59 s, 60 s); it leaves the window when the clock enters 120 s.
        assertThat(window.tryAcquire(1, 119 * SECOND)).isEqualTo(SECOND);
        assertThat(window.tryAcquire(60, 120 * SECOND)).isZero();
    }

    @Test
    void retryAfterIsWhenEnoughOldSlotsHaveLeftTheWindow() {
        SlidingWindow window = new SlidingWindow(10, MINUTE, 6); // 10 s slots
        assertThat(window.tryAcquire(4, 0)).isZero();
        assertThat(window.tryAcquire(3, 15 * SECOND)).isZero();
        assertThat(window.tryAcquire(3, 25 * SECOND)).isZero();
        long now = 30 * SECOND;
        // 1 more needs the slot [0, 10 s) gone: the window counts 7 slots, so at 70 s.
        assertThat(window.tryAcquire(1, now)).isEqualTo(40 * SECOND);
        // 5 more needs [0,10) and [10,20) gone: at 80 s.
        assertThat(window.tryAcquire(5, now)).isEqualTo(50 * SECOND);
        assertThat(window.tryAcquire(5, 80 * SECOND)).isZero();
        assertThat(window.available(80 * SECOND)).isEqualTo(2);
        assertThat(window.tryAcquire(11, now)).isEqualTo(RateLimit.NEVER);
    }

    @Test
    void anyWindowOfOnePeriodHoldsAtMostTheLimitUnderRandomTraffic() {
        long period = 60 * SECOND;
        for (int slots : new int[] {1, 6, 60}) {
            SlidingWindow window = new SlidingWindow(50, Duration.ofNanos(period), slots);
            SplittableRandom random = new SplittableRandom(42 + slots);
            List<long[]> admitted = new ArrayList<>(); // {time, units}
            long t = 0;
            for (int i = 0; i < 20_000; i++) {
                t += random.nextLong(0, 2 * SECOND);
                long units = random.nextLong(1, 6);
                if (window.tryAcquire(units, t) == 0) {
                    admitted.add(new long[] {t, units});
                }
            }
            assertThat(admitted.size()).isGreaterThan(1000);
            // Every window (s - period, s] that ends at an admission: the worst ones.
            int from = 0;
            long inWindow = 0;
            for (int to = 0; to < admitted.size(); to++) {
                inWindow += admitted.get(to)[1];
                while (admitted.get(from)[0] <= admitted.get(to)[0] - period) {
                    inWindow -= admitted.get(from)[1];
                    from++;
                }
                assertThat(inWindow).as("slots %d, window ending %d", slots, admitted.get(to)[0])
                        .isLessThanOrEqualTo(50);
            }
        }
    }

    @Test
    void refundsReturnToTheirSlotWhileItIsInTheWindowOnly() {
        SlidingWindow window = new SlidingWindow(10, MINUTE, 6);
        assertThat(window.tryAcquire(8, 0)).isZero();
        window.refund(5, 0, 5 * SECOND);
        assertThat(window.available(5 * SECOND)).isEqualTo(7);
        window.refund(100, 0, 5 * SECOND); // never more than the slot holds
        assertThat(window.available(5 * SECOND)).isEqualTo(10);
        assertThat(window.tryAcquire(10, 10 * SECOND)).isZero();
        window.refund(4, 10 * SECOND, 75 * SECOND); // its slot [10 s, 20 s) is counted until 80 s
        assertThat(window.available(75 * SECOND)).isEqualTo(4);
        assertThat(window.tryAcquire(4, 75 * SECOND)).isZero();
        window.refund(4, 10 * SECOND, 80 * SECOND); // it left the window at 80 s: nothing to give back
        assertThat(window.available(80 * SECOND)).isEqualTo(6);
        window.refund(3, 0, 80 * SECOND);
        assertThat(window.available(80 * SECOND)).isEqualTo(6);
    }

    @Test
    void badArgumentsSayWhatToFix() {
        assertThatThrownBy(() -> new SlidingWindow(-1, MINUTE)).hasMessage("limit: -1 (expected: >= 0)");
        assertThatThrownBy(() -> new SlidingWindow(1, MINUTE, 0)).hasMessage("slots: 0 (expected: 1..100000)");
        assertThatThrownBy(() -> new SlidingWindow(1, Duration.ofSeconds(-1)))
                .hasMessage("period: PT-1S (expected: > 0)");
    }
}
