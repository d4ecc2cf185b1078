package io.fastlitellm.stats;

/**
 * One component's figures since start (or the last reset).
 *
 * @param calls operations recorded
 * @param errors of those, the ones that failed (what "failed" means is on {@link Component})
 * @param meanMicros mean latency in microseconds
 * @param p50Micros median latency
 * @param p90Micros 90th percentile latency
 * @param p99Micros 99th percentile latency
 * @param maxMicros largest latency
 * @param inputSize summed input sizes (unit on {@link Component})
 * @param outputSize summed output sizes
 */
public record ComponentSnapshot(Component component, long calls, long errors, double meanMicros, long p50Micros,
                                long p90Micros, long p99Micros, long maxMicros, long inputSize, long outputSize) {

    /** Errors as a share of calls, 0 when there were none. */
    public double errorRate() {
        return calls == 0 ? 0 : (double) errors / calls;
    }
}
