package io.fastlitellm.stats;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Calls, errors, latency and sizes of one component.
 *
 * <p>Concurrency: {@link #record} is wait-free (LongAdders and an HdrHistogram {@link Recorder}),
 * for any number of threads. {@link #snapshot()} takes the recorder's interval histogram and folds it
 * into a running total under this object's monitor, so snapshots are consistent and only the
 * (rare) snapshot callers ever wait on each other.
 */
final class ComponentStats {
    /** Latencies are kept in microseconds from 1 µs to 1 hour at 3 significant digits. */
    private static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);

    private final LongAdder calls = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder input = new LongAdder();
    private final LongAdder output = new LongAdder();
    private final Recorder recorder = new Recorder(MAX_MICROS, 3);
    private Histogram total = new Histogram(MAX_MICROS, 3);
    private Histogram interval;

    void record(long nanos, long inputSize, long outputSize, boolean error) {
        calls.increment();
        if (error) {
            errors.increment();
        }
        if (inputSize > 0) {
            input.add(inputSize);
        }
        if (outputSize > 0) {
            output.add(outputSize);
        }
        long micros = Math.min(MAX_MICROS, Math.max(1, nanos / 1000));
        recorder.recordValue(micros);
    }

    synchronized ComponentSnapshot snapshot(Component component) {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        long n = total.getTotalCount();
        return new ComponentSnapshot(component, calls.sum(), errors.sum(),
                n == 0 ? 0 : total.getMean(),
                n == 0 ? 0 : total.getValueAtPercentile(50),
                n == 0 ? 0 : total.getValueAtPercentile(90),
                n == 0 ? 0 : total.getValueAtPercentile(99),
                n == 0 ? 0 : total.getMaxValue(),
                input.sum(), output.sum());
    }

    synchronized void reset() {
        calls.reset();
        errors.reset();
        input.reset();
        output.reset();
        interval = recorder.getIntervalHistogram(interval);
        total = new Histogram(MAX_MICROS, 3);
    }
}
