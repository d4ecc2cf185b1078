package io.fastlitellm.ratelimit;

import java.util.function.LongSupplier;

/**
 * The answer to one request's rate-limit check, and the handle that finishes it: whether the
 * request may go, and if not which limit refused it and when to retry; the figures for the
 * {@code x-ratelimit-*} headers; and, once the upstream has answered, {@link #reconcile} the token
 * reservation with the real usage, {@link #fail} to refund it, {@link #release} the parallel slot.
 *
 * <p>One object per request (two when a deployment's limits are checked too, {@link #and}); a
 * benchmark or a tight loop can reuse one through {@link RateLimiter#tryAcquire}. Not thread-safe:
 * one request's code path uses it, in order (the gateway hands it from thread to thread with the
 * request, which orders those uses). The lifecycle methods are idempotent.
 */
public final class Permit {

    /** {@link #deniedLimitKind()}: the requests-per-period limit refused. */
    public static final int REQUESTS = 0;
    /** {@link #deniedLimitKind()}: the tokens-per-period limit refused. */
    public static final int TOKENS = 1;
    /** {@link #deniedLimitKind()}: the requests-in-flight limit refused. */
    public static final int PARALLEL = 2;
    /** {@link #deniedLimitKind()}: the store holds its maximum of keys and none is idle. */
    public static final int CAPACITY = 3;
    /** {@link #deniedLimitKind()} of a permit that was granted. */
    public static final int NONE = -1;

    private static final int RECONCILED = 1;
    private static final int RELEASED = 2;
    private static final int CANCELLED = 4;

    // What was asked, set by RateLimiter before the store answers.
    LimitStore store;
    LongSupplier clock;
    String key;
    Limits limits;
    long reservedTokens;
    Permit next;

    // The store's answer.
    private boolean allowed;
    private int denied = NONE;
    private long retryAfterNanos;
    private long requestsRemaining;
    private long tokensRemaining;
    /*
     * The in-memory store grants with the buckets' debts instead of the remaining counts: turning a
     * debt into a count is a 64-bit division, a third of a check's cost, and most callers never ask.
     */
    private boolean debts;

    private int done;

    Permit() {
    }

    void reset(LimitStore store, LongSupplier clock, String key, Limits limits, long reservedTokens) {
        this.store = store;
        this.clock = clock;
        this.key = key;
        this.limits = limits;
        this.reservedTokens = reservedTokens;
        this.next = null;
        this.allowed = false;
        this.denied = NONE;
        this.retryAfterNanos = 0;
        this.done = 0;
    }

    /**
     * For {@link LimitStore} implementations: the check passed; the figures are what is left after
     * this request ({@link Limits#UNLIMITED} where no limit applies).
     */
    public void grant(long requestsRemaining, long tokensRemaining) {
        this.allowed = true;
        this.denied = NONE;
        this.retryAfterNanos = 0;
        this.requestsRemaining = requestsRemaining;
        this.tokensRemaining = tokensRemaining;
        this.debts = false;
    }

    /**
     * For {@link LimitStore} implementations that check two stores as one
     * ({@link LimitStore#tryAcquireWithAsync}): this store's limits would have admitted the request,
     * but the other's refused, so nothing was consumed here. The permit counts as allowed (the
     * refusal is the other permit's, once {@link #and linked}) and its lifecycle methods do nothing,
     * as after {@link #cancel()}.
     */
    public void notTaken(long requestsRemaining, long tokensRemaining) {
        grant(requestsRemaining, tokensRemaining);
        done |= CANCELLED;
    }

    /**
     * {@link #grant} with each bucket's debt in nanoseconds after this request
     * ({@link Limits#UNLIMITED} where no limit applies); the counts are derived when asked for.
     */
    void grantDebts(long requestDebtNanos, long tokenDebtNanos) {
        this.allowed = true;
        this.denied = NONE;
        this.requestsRemaining = requestDebtNanos;
        this.tokensRemaining = tokenDebtNanos;
        this.debts = true;
    }

    private long requestsLeft() {
        if (!debts || requestsRemaining == Limits.UNLIMITED) {
            return requestsRemaining;
        }
        return Gcra.remaining(requestsRemaining, 0, limits.requestIntervalNanos, limits.requestCapacityNanos);
    }

    private long tokensLeft() {
        if (!debts || tokensRemaining == Limits.UNLIMITED) {
            return tokensRemaining;
        }
        return Gcra.remaining(tokensRemaining, 0, limits.tokenIntervalNanos, limits.tokenCapacityNanos);
    }

    /**
     * For {@link LimitStore} implementations: the check failed on {@code kind} ({@link #REQUESTS},
     * ...) and nothing was consumed; {@code retryAfterNanos} is {@link RateLimit#NEVER} when no wait
     * helps.
     */
    public void deny(int kind, long retryAfterNanos) {
        if (kind < REQUESTS || kind > CAPACITY) {
            throw new IllegalArgumentException("kind: " + kind + " (expected: Permit.REQUESTS..CAPACITY)");
        }
        this.allowed = false;
        this.denied = kind;
        this.retryAfterNanos = retryAfterNanos;
    }

    /** True when every checked limit admitted the request and it consumed from all of them. */
    public boolean allowed() {
        return allowed && (next == null || next.allowed());
    }

    /** The permit that refused (this one or a linked one), or null when allowed. */
    private Permit refusing() {
        if (!allowed) {
            return this;
        }
        return next == null ? null : next.refusing();
    }

    /** One of {@link #REQUESTS}, {@link #TOKENS}, {@link #PARALLEL}, {@link #CAPACITY}; {@link #NONE} when allowed. */
    public int deniedLimitKind() {
        Permit p = refusing();
        return p == null ? NONE : p.denied;
    }

    /**
     * The limit that refused, as configured ({@code "key rpm_limit"}, {@code "deployment tpm"}, ...),
     * or null when allowed or never checked.
     */
    public String deniedLimit() {
        Permit p = refusing();
        if (p == null) {
            return null;
        }
        return switch (p.denied) {
            case REQUESTS -> p.limits.requestName;
            case TOKENS -> p.limits.tokenName;
            case PARALLEL -> p.limits.parallelName;
            case CAPACITY -> "rate limiter maxKeys";
            default -> null; // not checked (the other limit of a pair refused first)
        };
    }

    /**
     * When a refused request may be retried, in milliseconds rounded up: 0 when allowed or when the
     * wait depends on other requests ending (parallel limit, full store); -1 when the request alone
     * exceeds the limit and no wait helps.
     */
    public long retryAfterMillis() {
        Permit p = refusing();
        if (p == null) {
            return 0;
        }
        return p.retryAfterNanos == RateLimit.NEVER ? -1 : Math.ceilDiv(p.retryAfterNanos, 1_000_000L);
    }

    /** {@code x-ratelimit-limit-requests}: the tightest request limit that applies, or -1 for none. */
    public long requestLimit() {
        return tightest(true, true);
    }

    /** {@code x-ratelimit-remaining-requests}: what the tightest request limit has left, or -1. */
    public long requestsRemaining() {
        return tightest(true, false);
    }

    /** {@code x-ratelimit-limit-tokens}: the tightest token limit that applies, or -1 for none. */
    public long tokenLimit() {
        return tightest(false, true);
    }

    /** {@code x-ratelimit-remaining-tokens}: what the tightest token limit has left, or -1. */
    public long tokensRemaining() {
        return tightest(false, false);
    }

    /** Tightest = least remaining; its limit goes with it so that the two headers agree. */
    private long tightest(boolean requests, boolean wantLimit) {
        long bestRemaining = Long.MAX_VALUE;
        long bestLimit = Limits.UNLIMITED;
        for (Permit p = this; p != null; p = p.next) {
            if (p.limits == null) {
                continue;
            }
            long limit = requests ? p.limits.requests : p.limits.tokens;
            if (limit == Limits.UNLIMITED) {
                continue;
            }
            long remaining = !p.allowed ? 0 : requests ? p.requestsLeft() : p.tokensLeft();
            if (remaining == Limits.UNLIMITED) {
                remaining = limit;
            }
            if (remaining < bestRemaining) {
                bestRemaining = remaining;
                bestLimit = limit;
            }
        }
        if (bestLimit == Limits.UNLIMITED) {
            return Limits.UNLIMITED;
        }
        return wantLimit ? bestLimit : bestRemaining;
    }

    /** Tokens reserved by the check (the estimate). */
    public long reservedTokens() {
        return reservedTokens;
    }

    /**
     * Links {@code other} (the deployment's permit) to this one (the key's): verdict and headers then
     * cover both, and the lifecycle methods act on both. Returns this.
     */
    public Permit and(Permit other) {
        if (other == this) {
            throw new IllegalArgumentException("other: this permit (expected: another permit)");
        }
        Permit last = this;
        while (last.next != null) {
            last = last.next;
        }
        last.next = other;
        return this;
    }

    /**
     * The upstream answered and used {@code actualTokens}: refunds the part of the reservation it did
     * not use, or charges what it used beyond (which may push the bucket into debt; later requests
     * wait it off). Once; later calls do nothing.
     */
    public void reconcile(long actualTokens) {
        if (actualTokens < 0) {
            throw new IllegalArgumentException("actualTokens: " + actualTokens + " (expected: >= 0)");
        }
        for (Permit p = this; p != null; p = p.next) {
            if (p.allowed && (p.done & (RECONCILED | CANCELLED)) == 0) {
                p.done |= RECONCILED;
                long delta = actualTokens - p.reservedTokens;
                if (delta != 0 && p.limits.tokens != Limits.UNLIMITED) {
                    p.store.adjustTokens(p.key, p.limits, delta, p.clock.getAsLong());
                }
            }
        }
    }

    /**
     * The request ended with {@code actualTokens} used: {@link #reconcile} and {@link #release} as one
     * operation on each permit's store ({@link LimitStore#settle}), for whatever of the two has not
     * been done yet. Once; later calls, and {@link #reconcile} or {@link #release} after it, do
     * nothing.
     */
    public void finish(long actualTokens) {
        if (actualTokens < 0) {
            throw new IllegalArgumentException("actualTokens: " + actualTokens + " (expected: >= 0)");
        }
        Permit pending = null; // a permit with something to settle, waiting to go with the next one
        long pendingDelta = 0;
        boolean pendingFree = false;
        for (Permit p = this; p != null; p = p.next) {
            if (p.allowed && (p.done & CANCELLED) == 0) {
                long delta = (p.done & RECONCILED) == 0 && p.limits.tokens != Limits.UNLIMITED
                        ? actualTokens - p.reservedTokens : 0;
                boolean free = (p.done & RELEASED) == 0 && p.limits.maxParallel != Limits.UNLIMITED;
                p.done |= RECONCILED | RELEASED;
                if (delta == 0 && !free) {
                    continue;
                }
                if (pending == null) {
                    pending = p;
                    pendingDelta = delta;
                    pendingFree = free;
                    continue;
                }
                long now = p.clock.getAsLong();
                if (!pending.store.settleWith(pending.key, pending.limits, pendingDelta, pendingFree,
                        p.store, p.key, p.limits, delta, free, now)) {
                    pending.store.settle(pending.key, pending.limits, pendingDelta, pendingFree, now);
                    p.store.settle(p.key, p.limits, delta, free, now);
                }
                pending = null;
            }
        }
        if (pending != null) {
            pending.store.settle(pending.key, pending.limits, pendingDelta, pendingFree, pending.clock.getAsLong());
        }
    }

    /** The call failed: refunds the whole token reservation and ends the request. The request itself still counts. */
    public void fail() {
        reconcile(0);
        release();
    }

    /** The request ended: frees its {@code max_parallel_requests} slot. Once; later calls do nothing. */
    public void release() {
        for (Permit p = this; p != null; p = p.next) {
            if (p.allowed && (p.done & (RELEASED | CANCELLED)) == 0) {
                p.done |= RELEASED;
                if (p.limits.maxParallel != Limits.UNLIMITED) {
                    p.store.releaseParallel(p.key, p.limits);
                }
            }
        }
    }

    /**
     * Undoes everything this permit took, as if the request had never been checked: for a request
     * that was admitted by its key but then found no deployment to go to.
     */
    public void cancel() {
        for (Permit p = this; p != null; p = p.next) {
            if (p.allowed && (p.done & CANCELLED) == 0) {
                long now = p.clock.getAsLong();
                if ((p.done & RECONCILED) == 0 && p.reservedTokens > 0 && p.limits.tokens != Limits.UNLIMITED) {
                    p.store.adjustTokens(p.key, p.limits, -p.reservedTokens, now);
                }
                if ((p.done & RELEASED) == 0 && p.limits.maxParallel != Limits.UNLIMITED) {
                    p.store.releaseParallel(p.key, p.limits);
                }
                if (p.limits.requests != Limits.UNLIMITED) {
                    p.store.refundRequest(p.key, p.limits, now);
                }
                p.done |= CANCELLED;
            }
        }
    }

    @Override
    public String toString() {
        return allowed()
                ? "Permit[allowed, requests " + requestsRemaining() + "/" + requestLimit()
                        + ", tokens " + tokensRemaining() + "/" + tokenLimit() + "]"
                : "Permit[denied by " + deniedLimit() + ", retry after " + retryAfterMillis() + " ms]";
    }
}
