package io.fastlitellm.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void recordsCallsErrorsLatencyAndSizesPerComponent() {
        Stats stats = Stats.create();
        for (int i = 1; i <= 100; i++) {
            stats.record(Component.UPSTREAM, TimeUnit.MILLISECONDS.toNanos(i), 10, 5, i % 10 == 0);
        }
        ComponentSnapshot s = stats.snapshot(Component.UPSTREAM);
        assertThat(s.calls()).isEqualTo(100);
        assertThat(s.errors()).isEqualTo(10);
        assertThat(s.errorRate()).isEqualTo(0.1);
        assertThat(s.p50Micros()).isBetween(49_900L, 50_100L);
        assertThat(s.p99Micros()).isBetween(98_900L, 99_100L);
        assertThat(s.maxMicros()).isBetween(99_900L, 100_100L);
        assertThat(s.inputSize()).isEqualTo(1000);
        assertThat(s.outputSize()).isEqualTo(500);
        assertThat(stats.snapshot(Component.ROUTER).calls()).isZero();
    }

    @Test
    void snapshotsAccumulateAcrossIntervals() {
        Stats stats = Stats.create();
        stats.record(Component.ROUTER, 1_000, 0, 0, false);
        assertThat(stats.snapshot(Component.ROUTER).calls()).isEqualTo(1);
        stats.record(Component.ROUTER, 3_000, 0, 0, false);
        ComponentSnapshot s = stats.snapshot(Component.ROUTER);
        assertThat(s.calls()).isEqualTo(2);
        assertThat(s.maxMicros()).isEqualTo(3);
        stats.reset();
        assertThat(stats.snapshot(Component.ROUTER).calls()).isZero();
        assertThat(stats.snapshot(Component.ROUTER).maxMicros()).isZero();
    }

    @Test
    void disabledStatsRecordNothing() {
        Stats stats = Stats.disabled();
        stats.record(Component.REQUEST, 1_000_000, 1, 1, true);
        assertThat(stats.enabled()).isFalse();
        assertThat(stats.snapshot(Component.REQUEST).calls()).isZero();
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        Stats stats = Stats.create();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    stats.record(Component.TOKENIZER, 2_000, 3, 0, false);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        ComponentSnapshot s = stats.snapshot(Component.TOKENIZER);
        assertThat(s.calls()).isEqualTo(40_000);
        assertThat(s.inputSize()).isEqualTo(120_000);
    }

    @Test
    void exportsJsonAndCsv() {
        Stats stats = Stats.create();
        stats.record(Component.REQUEST, 5_000_000, 100, 200, false);
        String json = Stats.toJson(true, List.of(stats.snapshot(Component.REQUEST)));
        assertThat(json).startsWith("{\"enabled\":true,\"components\":{\"request\":{\"calls\":1,\"errors\":0,");
        assertThat(json).contains("\"input_size\":100").contains("\"output_size\":200");
        String csv = Stats.toCsv(stats.snapshot());
        String[] lines = csv.split("\n");
        assertThat(lines).hasSize(1 + Component.values().length);
        assertThat(lines[0]).startsWith("component,calls,errors");
        assertThat(lines[6]).startsWith("request,1,0,0.0000,");
    }

    @Test
    void componentKeysRoundTrip() {
        for (Component c : Component.values()) {
            assertThat(Component.fromKey(c.key())).isEqualTo(c);
        }
        assertThat(Component.fromKey("nope")).isNull();
    }
}
