package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TickingClockTest {

    @Test
    void neverGoesBackAndFollowsNanoTime() throws InterruptedException {
        try (TickingClock clock = new TickingClock(Duration.ofMillis(1))) {
            long first = clock.getAsLong();
            assertThat(first).isLessThanOrEqualTo(System.nanoTime());
            long last = first;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (last == first && System.nanoTime() < deadline) {
                Thread.sleep(1);
                long now = clock.getAsLong();
                assertThat(now).isGreaterThanOrEqualTo(last);
                last = now;
            }
            assertThat(last).isGreaterThan(first).isLessThanOrEqualTo(System.nanoTime());
        }
    }

    @Test
    void aResolutionOutsideItsRangeSaysWhatToFix() {
        assertThatThrownBy(() -> new TickingClock(Duration.ZERO))
                .hasMessage("resolution: PT0S (expected: > 0 and <= 1 s)");
        assertThatThrownBy(() -> new TickingClock(Duration.ofSeconds(2)))
                .hasMessage("resolution: PT2S (expected: > 0 and <= 1 s)");
    }
}
