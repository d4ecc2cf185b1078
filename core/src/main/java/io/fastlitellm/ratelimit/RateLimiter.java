package io.fastlitellm.ratelimit;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * A gateway's rate limits, per request: one call checks and consumes every limit of a virtual key,
 * optionally together with the limits of the deployment the request was routed to, all or none, and
 * returns a {@link Permit}.
 *
 * <p>Two ways to call it, since routing happens after authentication:
 * <ol>
 *   <li>{@code acquire(key, keyLimits, tokens)} before routing, then
 *       {@code acquireDeployment(deploymentId, deploymentLimits, tokens)} for each deployment the
 *       router tries: a refused deployment consumed nothing, the router may try another; when none
 *       admits, {@link Permit#cancel()} the key's permit so that the key is charged nothing. Then
 *       {@code keyPermit.and(deploymentPermit)} and use that one permit for headers, reconcile and
 *       release.</li>
 *   <li>{@code acquire(key, keyLimits, deploymentId, deploymentLimits, tokens)}: both in one call,
 *       all or none, when the deployment is known up front.</li>
 * </ol>
 *
 * <p>Keys and deployment ids live in separate stores, so a key and a deployment of the same name
 * never share state. Thread-safe: the stores are.
 */
public final class RateLimiter {

    private final LimitStore keys;
    private final LimitStore deployments;
    private final LongSupplier nanoTime;

    public RateLimiter(LimitStore keys, LimitStore deployments, LongSupplier nanoTime) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.deployments = Objects.requireNonNull(deployments, "deployments");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /** In-memory stores for up to {@code maxKeys} keys and {@code maxDeployments} deployments. */
    public static RateLimiter inMemory(int maxKeys, int maxDeployments, LongSupplier nanoTime) {
        return new RateLimiter(LimitStore.inMemory(maxKeys), LimitStore.inMemory(maxDeployments), nanoTime);
    }

    /**
     * The tokens to reserve before a call: the prompt's tokens plus the completion's bound, which is
     * the request's {@code max_tokens} when it sets one ({@code maxTokens >= 0}), else
     * {@code defaultCompletionTokens}.
     */
    public static long estimateTokens(long promptTokens, long maxTokens, long defaultCompletionTokens) {
        if (promptTokens < 0) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 0)");
        }
        if (defaultCompletionTokens < 0) {
            throw new IllegalArgumentException("defaultCompletionTokens: " + defaultCompletionTokens
                    + " (expected: >= 0)");
        }
        return Math.addExact(promptTokens, maxTokens >= 0 ? maxTokens : defaultCompletionTokens);
    }

    /** Checks and consumes the key's limits, reserving {@code estimatedTokens}. */
    public Permit acquire(String key, Limits keyLimits, long estimatedTokens) {
        Permit permit = new Permit();
        tryAcquire(keys, key, keyLimits, estimatedTokens, permit);
        return permit;
    }

    /** Checks and consumes a deployment's limits; see the class comment for how it joins the key's. */
    public Permit acquireDeployment(String deploymentId, Limits deploymentLimits, long estimatedTokens) {
        Permit permit = new Permit();
        tryAcquire(deployments, deploymentId, deploymentLimits, estimatedTokens, permit);
        return permit;
    }

    /**
     * Whether either store may wait on another process ({@link LimitStore#remote()}): a caller that
     * must not block then uses {@link #acquireAsync} and {@link #acquireDeploymentAsync}.
     */
    public boolean remote() {
        return keys.remote() || deployments.remote();
    }

    /**
     * {@link #acquire(String, Limits, long)} without waiting: completes with the permit once the
     * store answered (at once for an in-process store), or exceptionally with what the store threw
     * (a shared store that refuses to run without its backend).
     */
    public CompletableFuture<Permit> acquireAsync(String key, Limits keyLimits, long estimatedTokens) {
        return tryAcquireAsync(keys, key, keyLimits, estimatedTokens);
    }

    /** {@link #acquireDeployment} without waiting; see {@link #acquireAsync}. */
    public CompletableFuture<Permit> acquireDeploymentAsync(String deploymentId, Limits deploymentLimits,
                                                            long estimatedTokens) {
        return tryAcquireAsync(deployments, deploymentId, deploymentLimits, estimatedTokens);
    }

    /**
     * A request's key and deployment permits, checked as one: both consumed, or neither. When the
     * key refused, the deployment was not looked at ({@code deployment.allowed()} is false and it
     * names no limit); when the deployment refused, the key's permit is allowed but holds nothing
     * (its lifecycle methods do nothing).
     */
    public record KeyAndDeployment(Permit key, Permit deployment) {
        public boolean allowed() {
            return key.allowed() && deployment.allowed();
        }
    }

    /**
     * Key and deployment as one, without waiting: the same verdicts as
     * {@link #acquire(String, Limits, String, Limits, long)}, all or none, kept as two permits so
     * that the deployment's can end (a failed call, a retry elsewhere) while the key's goes on. A
     * shared store that checks both in one operation ({@link LimitStore#tryAcquireWithAsync}) takes
     * one round trip; otherwise the key is checked, then the deployment, and the key's consumption
     * is undone when the deployment refuses.
     */
    public CompletableFuture<KeyAndDeployment> acquireAsync(String key, Limits keyLimits, String deploymentId,
                                                            Limits deploymentLimits, long estimatedTokens) {
        Permit keyPermit = new Permit();
        Permit deploymentPermit = new Permit();
        prepare(keys, key, keyLimits, estimatedTokens, keyPermit);
        prepare(deployments, deploymentId, deploymentLimits, estimatedTokens, deploymentPermit);
        KeyAndDeployment both = new KeyAndDeployment(keyPermit, deploymentPermit);
        if (!keyLimits.isUnlimited() && !deploymentLimits.isUnlimited()) {
            CompletableFuture<Boolean> one = keys.tryAcquireWithAsync(key, keyLimits, keyPermit, deployments,
                    deploymentId, deploymentLimits, deploymentPermit, estimatedTokens, nanoTime.getAsLong());
            if (one != null) {
                return one.thenApply(ok -> both);
            }
        }
        return check(keys, key, keyLimits, estimatedTokens, keyPermit).thenCompose(k -> !k
                ? CompletableFuture.completedFuture(both)
                : check(deployments, deploymentId, deploymentLimits, estimatedTokens, deploymentPermit).thenApply(d -> {
                    if (!d) {
                        keyPermit.cancel();
                    }
                    return both;
                }));
    }

    /** One prepared permit's check, without waiting. */
    private CompletableFuture<Boolean> check(LimitStore store, String key, Limits limits, long tokens, Permit permit) {
        if (limits.isUnlimited()) {
            permit.grant(Limits.UNLIMITED, Limits.UNLIMITED);
            return CompletableFuture.completedFuture(true);
        }
        return store.tryAcquireAsync(key, limits, tokens, nanoTime.getAsLong(), permit);
    }

    private CompletableFuture<Permit> tryAcquireAsync(LimitStore store, String key, Limits limits, long tokens) {
        Permit permit = new Permit();
        prepare(store, key, limits, tokens, permit);
        return check(store, key, limits, tokens, permit).thenApply(ok -> permit);
    }

    /**
     * Key and deployment in one call, all or none. The returned permit is the key's with the
     * deployment's linked; when the deployment refuses, the key's consumption is undone and the
     * permit reports the deployment's limit.
     */
    public Permit acquire(String key, Limits keyLimits, String deploymentId, Limits deploymentLimits,
                          long estimatedTokens) {
        Permit keyPermit = acquire(key, keyLimits, estimatedTokens);
        if (!keyPermit.allowed()) {
            return keyPermit;
        }
        Permit deploymentPermit = acquireDeployment(deploymentId, deploymentLimits, estimatedTokens);
        if (!deploymentPermit.allowed()) {
            keyPermit.cancel();
        }
        return keyPermit.and(deploymentPermit);
    }

    /**
     * {@link #acquire(String, Limits, long)} into a permit the caller reuses: no allocation. The
     * permit's earlier request must be finished (reconciled, released) before it is reused.
     */
    public boolean tryAcquire(String key, Limits keyLimits, long estimatedTokens, Permit reuse) {
        return tryAcquire(keys, key, keyLimits, estimatedTokens, reuse);
    }

    private boolean tryAcquire(LimitStore store, String key, Limits limits, long tokens, Permit permit) {
        prepare(store, key, limits, tokens, permit);
        if (limits.isUnlimited()) {
            permit.grant(Limits.UNLIMITED, Limits.UNLIMITED);
            return true;
        }
        return store.tryAcquire(key, limits, tokens, nanoTime.getAsLong(), permit);
    }

    private void prepare(LimitStore store, String key, Limits limits, long tokens, Permit permit) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(limits, "limits");
        if (tokens < 0) {
            throw new IllegalArgumentException("estimatedTokens: " + tokens + " (expected: >= 0)");
        }
        permit.reset(store, nanoTime, key, limits, tokens);
    }

    /** A permit for {@link #tryAcquire(String, Limits, long, Permit)} to fill again and again. */
    public static Permit newPermit() {
        return new Permit();
    }

    /** Runs both stores' maintenance; returns the nanoseconds until it is worth running again. */
    public long cleanup(long nowNanos) {
        return Math.min(keys.cleanup(nowNanos), deployments.cleanup(nowNanos));
    }

    public LimitStore keys() {
        return keys;
    }

    public LimitStore deployments() {
        return deployments;
    }
}
