package io.fastlitellm.router;

/**
 * All mutable per-deployment state the router reads and writes: requests in flight, requests and
 * tokens per minute, successes and failures per minute, the last latency samples and the cooldown
 * deadline. Deployments are addressed by their slot, their index in the router's deployment list.
 *
 * <p>Every operation touches a few numbers of one deployment, so a shared implementation (Redis)
 * can make each one a single atomic script keyed by deployment id and minute. Minutes and the
 * cooldown deadline are on the router's clock ({@code nanoTime}; minute = floor(nanos / 60 s)): a
 * store shared across instances needs that clock to be a wall clock in nanoseconds.
 *
 * <p>Implementations must be thread-safe and must not block on the selection path
 * ({@link #inFlight}, {@link #requestsInMinute}, {@link #tokensInMinute}, {@link #cooldownUntil},
 * {@link #averageLatency}); a remote store should serve those from a local copy it refreshes.
 */
public interface DeploymentStateStore {
    /** {@link #cooldownUntil} when the deployment is not cooling down. */
    long NO_COOLDOWN = Long.MIN_VALUE;

    long inFlight(int slot);

    void addInFlight(int slot, long delta);

    long requestsInMinute(int slot, long minute);

    long tokensInMinute(int slot, long minute);

    void addUsage(int slot, long minute, long requests, long tokens);

    long successesInMinute(int slot, long minute);

    long failuresInMinute(int slot, long minute);

    void recordOutcome(int slot, long minute, boolean success);

    /** Adds one sample (nanoseconds per output token) to the last-{@code window} samples of one kind. */
    void addLatencySample(int slot, boolean timeToFirstToken, long nanosPerToken);

    /** Mean of the kept samples of that kind, or -1 when there is none. */
    long averageLatency(int slot, boolean timeToFirstToken);

    /** The nanoTime until which the deployment is cooling down, or {@link #NO_COOLDOWN}. */
    long cooldownUntil(int slot);

    void setCooldownUntil(int slot, long untilNanos);
}
