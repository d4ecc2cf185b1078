package io.fastlitellm.ratelimit;

import java.util.concurrent.CompletableFuture;

/**
 * Where limit state lives, keyed by a string (a virtual key, a deployment id). The algorithm is the
 * one {@link Limits} describes (token buckets for requests and tokens, a counter for requests in
 * flight), so a key's whole state is three numbers: two GCRA arrival times and one count. A Redis
 * implementation keeps them in one hash per key and runs each method as one Lua script.
 *
 * <p>Every implementation promises: {@link #tryAcquire} consumes all of a key's applicable limits or
 * none; no limit ever admits beyond its documented semantics, whatever the concurrency; a key never
 * seen is a key with full buckets and nothing in flight.
 *
 * <p>For a shared store: the state per key is {@code tat_requests}, {@code tat_tokens} (GCRA, see
 * {@link Limits}: take {@code n} when {@code max(tat, now) + n * interval - now <= limit * interval},
 * {@code interval = ceil(period / limit)}) and {@code in_flight}. Instances must agree on {@code now}:
 * a Redis script should read Redis's {@code TIME} rather than trust each caller's
 * {@code nowNanos}, which is a local monotonic clock. A shared store says so with {@link #remote()}
 * and implements {@link #tryAcquireAsync}, so that no caller's thread waits for its round trip, and
 * may check two scopes (key and deployment) as one with {@link #tryAcquireWithAsync}; otherwise
 * {@link RateLimiter} calls the two stores one after the other and undoes the first when the second
 * refuses.
 */
public interface LimitStore {

    /**
     * Checks and, when all pass, consumes at {@code nowNanos}: one request from
     * {@code limits.requests()}, {@code tokens} from {@code limits.tokens()}, one slot of
     * {@code limits.maxParallel()}. Writes the verdict into {@code out} with {@link Permit#grant} or
     * {@link Permit#deny}.
     *
     * @return whether the request was admitted
     */
    boolean tryAcquire(String key, Limits limits, long tokens, long nowNanos, Permit out);

    /**
     * Whether a check may wait on another process (a shared store): then a caller that must not
     * block (a Netty event loop) uses {@link #tryAcquireAsync} and continues when it completes. An
     * in-process store answers at once and keeps the synchronous, allocation-free path.
     */
    default boolean remote() {
        return false;
    }

    /**
     * {@link #tryAcquire} without waiting: the future completes with the verdict once {@code out}
     * holds it, or exceptionally with what {@link #tryAcquire} would have thrown. A remote store
     * completes it from its own I/O thread, within its time budget; the caller must not touch
     * {@code out} before then. The default answers at once.
     */
    default CompletableFuture<Boolean> tryAcquireAsync(String key, Limits limits, long tokens, long nowNanos, Permit out) {
        try {
            return CompletableFuture.completedFuture(tryAcquire(key, limits, tokens, nowNanos, out));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@code key} in this store and {@code otherKey} in {@code other} checked as one operation,
     * without waiting: both are consumed or neither (a request's virtual key and the deployment it
     * was routed to, in one round trip to a shared store). When {@code other} refuses, {@code out}
     * is filled with {@link Permit#notTaken}. Returns null when this store cannot check together
     * with {@code other}; the caller then checks one after the other (see {@link RateLimiter}).
     */
    default CompletableFuture<Boolean> tryAcquireWithAsync(String key, Limits limits, Permit out, LimitStore other,
                                                           String otherKey, Limits otherLimits, Permit otherOut,
                                                           long tokens, long nowNanos) {
        return null;
    }

    /** Charges ({@code tokens > 0}) or refunds ({@code < 0}) tokens after the fact; see {@link TokenBucket}. */
    void adjustTokens(String key, Limits limits, long tokens, long nowNanos);

    /** Gives back one request taken by {@link #tryAcquire} (a cancelled request). */
    void refundRequest(String key, Limits limits, long nowNanos);

    /** Frees one requests-in-flight slot taken by {@link #tryAcquire}. */
    void releaseParallel(String key, Limits limits);

    /**
     * A request ended: charges ({@code tokens > 0}) or refunds ({@code < 0}) tokens as
     * {@link #adjustTokens} does, and when {@code release} frees its slot as {@link #releaseParallel}
     * does; the caller passes only what applies ({@code tokens} 0 when the key has no token limit,
     * {@code release} false when it has no parallel limit). A shared store makes it one call instead
     * of two, which is most of what the end of a request costs it.
     */
    default void settle(String key, Limits limits, long tokens, boolean release, long nowNanos) {
        if (tokens != 0) {
            adjustTokens(key, limits, tokens, nowNanos);
        }
        if (release) {
            releaseParallel(key, limits);
        }
    }

    /**
     * {@link #settle} of {@code key} here and of {@code otherKey} in {@code other} as one operation,
     * when this store can (a request's virtual key and deployment on one shared store: one call
     * instead of two). Returns false, having done nothing, when it cannot; the caller then settles
     * each on its own.
     */
    default boolean settleWith(String key, Limits limits, long tokens, boolean release, LimitStore other,
                               String otherKey, Limits otherLimits, long otherTokens, boolean otherRelease, long nowNanos) {
        return false;
    }

    /**
     * Maintenance: drops state that no longer matters. Returns nanoseconds until it is worth running
     * again.
     */
    long cleanup(long nowNanos);

    /** Keys held now. */
    int size();

    /**
     * The in-process store: a lock-free open-addressing table for up to {@code maxKeys} keys,
     * allocated up front at 37.3 bytes a key (see {@link KeyTable}).
     */
    static LimitStore inMemory(int maxKeys) {
        return new KeyTable(maxKeys);
    }
}
