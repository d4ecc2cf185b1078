package io.fastlitellm.upstream;

/**
 * A snapshot of the connection pools, summed over endpoints and event loops.
 *
 * @param open connections open now
 * @param idle open and waiting in a pool
 * @param inUse open and carrying an exchange
 * @param created connections opened since start
 * @param reused exchanges that went over a pooled connection
 * @param waiting requests waiting for a connection now
 * @param acquireWaitP50Micros median wait for a connection since start, in microseconds
 * @param acquireWaitP99Micros 99th percentile of that wait
 */
public record PoolStats(long open, long idle, long inUse, long created, long reused, long waiting,
                        long acquireWaitP50Micros, long acquireWaitP99Micros) {
}
