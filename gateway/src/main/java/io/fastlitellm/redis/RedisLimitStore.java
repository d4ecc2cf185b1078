package io.fastlitellm.redis;

import io.fastlitellm.ratelimit.LimitStore;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimit;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link LimitStore} shared by every gateway instance through Redis: the same algorithm as the
 * in-memory store (GCRA token buckets for requests and tokens, a counter for requests in flight; see
 * {@link Limits}), with a key's three numbers in one Redis string and each operation one call of one Lua script.
 *
 * <h2>Time</h2>
 * The scripts read the Redis server's {@code TIME}, in microseconds, and ignore the caller's
 * {@code nowNanos}: every instance then measures refill on one clock, whatever its own clock says.
 * Intervals are {@code ceil(period / limit)} in whole microseconds (Lua numbers are doubles: epoch
 * microseconds are exact, epoch nanoseconds would not be), so refill is never faster than the limit.
 *
 * <h2>When Redis cannot answer</h2>
 * A check is answered within the budget ({@link RedisSettings#budget()}): asynchronously
 * ({@link #tryAcquireAsync}, what the gateway's event loops use, so none of them waits on Redis) or
 * by waiting for that answer ({@link #tryAcquire}). Past the budget, or while Redis is down, {@link RedisSettings.FailurePolicy#FALLBACK} checks this instance's in-memory store instead
 * and {@link RedisSettings.FailurePolicy#REFUSE} throws {@link SharedStateUnavailableException}. A
 * check that timed out but then succeeds on Redis is undone there by a compensating script, so a
 * late grant nobody used never holds a slot. Follow-up operations (reconcile, refund, release) are
 * sent without waiting; a parallel slot whose release could not be sent is released by the next
 * {@link #cleanup}, and one taken from the fallback store is released there.
 *
 * <p>Concurrency: all shared state is on Redis, changed only by the scripts, which Redis runs one at
 * a time: that is what makes a check over several limits atomic across instances. The local maps
 * ({@code localHeld}, {@code pendingReleases}) only count slots per key with atomic merges.
 */
final class RedisLimitStore implements LimitStore {

    /**
     * LIMITS: the one script of limit state, serving a batch of calls ({@link ScriptBatcher}, which
     * also gives the wire format: KEYS, one binary ARGV of operation bytes and doubles, one binary
     * answer of doubles), each as if alone and in the order this instance made them, so that a call
     * always sees this instance's earlier ones (a refund before the next check of the same key). Per
     * call:
     *
     * <ul>
     *   <li>{@code 1} acquire, one key, six numbers: requests limit, request interval (us), tokens
     *       limit, token interval (us), tokens, parallel limit; a limit of -1 does not apply. Answers
     *       {1, requests left, tokens left} (-1 where no limit applies) or {0, kind (0 requests, 1
     *       tokens, 2 parallel), wait in us (-1: never)}.</li>
     *   <li>{@code 2} adjust, one key, three numbers: request cost (us), token cost (us), in-flight
     *       delta. A positive cost charges (may go into debt, capped at 10^15 us, 31 years, as
     *       {@code Gcra.MAX_DEBT_NANOS}), a negative one refunds (never beyond a full bucket); in
     *       flight never goes below zero. A key Redis does not hold has nothing to refund or
     *       release. Answers {1 or 0}.</li>
     *   <li>{@code 4} adjust two keys (a request's virtual key and deployment at its end), six
     *       numbers (the three of each). Answers the two answers of {@code 2}.</li>
     *   <li>{@code 3} acquire two keys as one (a virtual key and the deployment a request was
     *       routed to), twelve numbers (the six of each): both are consumed or neither. Answers the
     *       six numbers of the two acquires; the one not consumed because the other refused answers
     *       -2 in place of 1 (and, for the second, 0 0 when it was not looked at).</li>
     * </ul>
     *
     * <p>A key's state is one string of three little-endian doubles (request TAT, token TAT, in
     * flight), read with one GET and written with one SET that also sets its expiry, each at most once
     * per batch however many of its calls the key has. Time is Redis's {@code TIME}, read once per
     * batch.
     */
    static final RedisLink.Script LIMITS = RedisLink.Script.of("limits", """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local MAX_DEBT = 1000000000000000
            local sunpack, spack, byte, max, min, floor = struct.unpack, struct.pack, string.byte, math.max, math.min, math.floor
            -- A batch often holds the same key many times (a busy virtual key, a deployment): each
            -- key is read once, its state kept here as the calls go, and written once at the end.
            local state, dirty = {}, {}
            local function load(key)
              local s = state[key]
              if s == nil then
                local v = redis.call('GET', key)
                if v then
                  local rt, tt, p = sunpack('<ddd', v)
                  s = {rt, tt, p}
                else
                  s = false
                end
                state[key] = s
              end
              if s then return s[1], s[2], s[3] end
              return nil
            end
            local function save(key, rt, tt, p)
              local s = state[key]
              if s then s[1], s[2], s[3] = rt, tt, p else state[key] = {rt, tt, p} end
              if not dirty[key] then dirty[key] = true; dirty[#dirty + 1] = key end
            end
            -- The verdict for KEY with its six limits, and the state to save if it passes.
            local function check(KEY, rl, ri, tl, ti, n, pl)
              local rt, tt, p = load(KEY)
              if not rt then rt, tt, p = 0, 0, 0 end
              local rleft, tleft = -1, -1
              if rl >= 0 then
                if rl < 1 then return 0, 0, -1 end
                local nr = max(rt, now) + ri
                local cap = rl * ri
                if nr - now > cap then return 0, 0, nr - now - cap end
                rt = nr
                rleft = floor((cap - (nr - now)) / ri)
              end
              if tl >= 0 then
                local cap = tl * ti
                if n > 0 then
                  if n > tl then return 0, 1, -1 end
                  local nt = max(tt, now) + n * ti
                  if nt - now > cap then return 0, 1, nt - now - cap end
                  tt = nt
                end
                local debt = max(tt, now) - now
                if debt >= cap then tleft = 0 else tleft = floor((cap - debt) / max(ti, 1)) end
              end
              if pl >= 0 then
                if p >= pl then return 0, 2, 0 end
                p = p + 1
              end
              return 1, rleft, tleft, rt, tt, p
            end
            local function adj(tat, c)
              if c == 0 then return tat end
              local base = max(tat, now)
              if c > 0 then return min(base + c, now + MAX_DEBT) end
              return max(base + c, now)
            end
            local function adjust(key, rc, tc, pd)
              local rt, tt, p = load(key)
              if not rt and rc <= 0 and tc <= 0 then return 0 end
              save(key, adj(rt or 0, rc), adj(tt or 0, tc), max(0, (p or 0) + pd))
              return 1
            end
            local IN = ARGV[1]
            local out, o = {}, 0
            local k, pos, len = 1, 1, #IN
            while pos <= len do
              local op = byte(IN, pos)
              if op == 1 then
                local rl, ri, tl, ti, n, pl, np = sunpack('<dddddd', IN, pos + 1)
                local ok, x, y, rt, tt, p = check(KEYS[k], rl, ri, tl, ti, n, pl)
                if ok == 1 then save(KEYS[k], rt, tt, p) end
                out[o + 1], out[o + 2], out[o + 3] = ok, x, y; o = o + 3
                k, pos = k + 1, np
              elseif op == 2 then
                local rc, tc, pd, np = sunpack('<ddd', IN, pos + 1)
                out[o + 1] = adjust(KEYS[k], rc, tc, pd)
                o = o + 1
                k, pos = k + 1, np
              elseif op == 4 then
                local rc, tc, pd, rc2, tc2, pd2, np = sunpack('<dddddd', IN, pos + 1)
                out[o + 1] = adjust(KEYS[k], rc, tc, pd)
                out[o + 2] = adjust(KEYS[k + 1], rc2, tc2, pd2)
                o = o + 2
                k, pos = k + 2, np
              elseif op == 3 then
                local rl, ri, tl, ti, n, pl, rl2, ri2, tl2, ti2, n2, pl2, np = sunpack('<dddddddddddd', IN, pos + 1)
                local ok, x, y, rt, tt, p = check(KEYS[k], rl, ri, tl, ti, n, pl)
                if ok == 0 then
                  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = 0, x, y, -2, 0, 0
                else
                  local ok2, x2, y2, rt2, tt2, p2 = check(KEYS[k + 1], rl2, ri2, tl2, ti2, n2, pl2)
                  if ok2 == 0 then
                    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = -2, x, y, 0, x2, y2
                  else
                    save(KEYS[k], rt, tt, p)
                    save(KEYS[k + 1], rt2, tt2, p2)
                    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = 1, x, y, 1, x2, y2
                  end
                end
                o = o + 6
                k, pos = k + 2, np
              else
                return redis.error_reply('LIMITS: unknown operation ' .. tostring(op) .. ' at byte ' .. pos)
              end
            end
            for i = 1, #dirty do
              local key = dirty[i]
              local s = state[key]
              local rt, tt, p = s[1], s[2], s[3]
              local ttl
              if p > 0 then
                -- a slot whose release never comes (an instance died) frees itself within an hour
                ttl = 3600000
              else
                -- idle once both buckets are full again: then the key's state equals a new key's
                ttl = floor((max(rt, tt, now) - now) / 1000) + 1000
              end
              redis.call('SET', key, spack('<ddd', rt, tt, p), 'PX', ttl)
            end
            -- every call's numbers, packed at once
            return spack('<' .. string.rep('d', o), unpack(out, 1, o))
            """);

    private final RedisLink link;
    /** Checks and adjustments go, in order, in batches shared by every store on this link (see ScriptBatcher). */
    private final ScriptBatcher batches;
    /** {@code "{fl:l}:<scope>:"} in UTF-8: every limit key starts with it (see {@link #redisKeyBytes}). */
    private final byte[] keyHead;
    private final LimitStore local;
    private final SharedStateMetrics metrics;
    /** What REFUSE throws, given the message; null: refuse by denying the request instead. */
    private final java.util.function.Function<String, ? extends RuntimeException> refusal;
    /** Parallel slots this instance took from {@code local} (while Redis was away), per key. */
    private final Map<String, AtomicLong> localHeld = new ConcurrentHashMap<>();
    /** Releases Redis did not get, per key: sent again by {@link #cleanup}. */
    private final Map<String, AtomicLong> pendingReleases = new ConcurrentHashMap<>();

    /**
     * The hash tag of every limit key. A batch, and a request's key and deployment checked as one,
     * are one script over several keys, which Redis Cluster runs only when all its keys are in one
     * slot: one tag for all keeps each check one atomic script on a cluster too (tags per key would
     * split a batch per slot and make key and deployment two calls, no longer all or nothing).
     */
    static final String LIMITS_TAG = "{fl:l}";

    RedisLimitStore(RedisLink link, ScriptBatcher batches, String scope, LimitStore local,
                    SharedStateMetrics metrics, java.util.function.Function<String, ? extends RuntimeException> refusal) {
        this.link = link;
        this.batches = batches;
        this.refusal = refusal;
        this.keyHead = (LIMITS_TAG + ":" + scope + ":").getBytes(StandardCharsets.UTF_8);
        this.local = local;
        this.metrics = metrics;
    }

    /**
     * {@code {fl:l}:<scope>:<key>}: all limit state under one hash tag ({@link #LIMITS_TAG}), so in
     * one Redis Cluster slot whatever the key holds (braces included: only the first {@code {...}}
     * counts). Apart from the router's hash of the same deployment ({@code {fl:d:<id>}}, in-flight
     * count and cooldown): one key each, so that the expiry a limit sets never cuts a cooldown short.
     * Made as bytes on the caller's thread: encoded by Lettuce, each key took a pooled buffer on its
     * one I/O thread, 16 % of that thread's time under load.
     */
    byte[] redisKeyBytes(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[keyHead.length + k.length];
        System.arraycopy(keyHead, 0, b, 0, keyHead.length);
        System.arraycopy(k, 0, b, keyHead.length, k.length);
        return b;
    }

    /** The six acquire numbers of {@code limits} for {@code tokens}, into {@code args} from {@code at}. */
    private static void limitArgs(Limits limits, long tokens, long[] args, int at) {
        args[at] = limits.requests();
        args[at + 1] = intervalMicros(limits, limits.requests());
        args[at + 2] = limits.tokens();
        args[at + 3] = intervalMicros(limits, limits.tokens());
        args[at + 4] = tokens;
        args[at + 5] = limits.maxParallel();
    }

    private static long intervalMicros(Limits limits, long limit) {
        if (limit <= 0) {
            return 0;
        }
        long periodMicros = Math.ceilDiv(limits.period().toNanos(), 1000L);
        return Math.max(1, Math.ceilDiv(periodMicros, limit));
    }

    /** Cost in microseconds of {@code units}, saturated as the script saturates debt. */
    private static long cost(long units, long intervalMicros) {
        if (units == 0 || intervalMicros == 0) {
            return 0;
        }
        long cap = 1_000_000_000_000_000L;
        long abs = Math.abs(units);
        long c = abs > cap / intervalMicros ? cap : abs * intervalMicros;
        return units < 0 ? -c : c;
    }

    @Override
    public boolean remote() {
        return true;
    }

    /** Waits for {@link #tryAcquireAsync}, which completes within the budget by itself. */
    @Override
    public boolean tryAcquire(String key, Limits limits, long tokens, long nowNanos, Permit out) {
        try {
            return tryAcquireAsync(key, limits, tokens, nowNanos, out).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Sends an acquire (in the next LIMITS batch) and completes from Lettuce's I/O thread when Redis
     * answers, or from the budget timer when it has not answered within the budget (then by the
     * failure policy); see {@link #decide}.
     */
    @Override
    public CompletableFuture<Boolean> tryAcquireAsync(String key, Limits limits, long tokens, long nowNanos, Permit out) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        if (!link.up()) {
            return fallbackAsync(key, limits, tokens, nowNanos, out, null);
        }
        // A check that falls back after waiting must not reach the local store with the time it was
        // asked at: checks that fell back at once meanwhile are later, and a GCRA bucket given an
        // earlier "now" after a later one refuses what it should admit.
        long asked = System.nanoTime();
        long[] args = new long[6];
        limitArgs(limits, tokens, args, 0);
        return decide(batches.submit(new byte[][] {redisKeyBytes(key)}, 1, args, 3), asked,
                why -> fallbackAsync(key, limits, tokens, nowNanos + (System.nanoTime() - asked), out, why),
                r -> {
                    metrics.redisChecks.increment();
                    return verdict(r, 0, out);
                },
                r -> {
                    if (r[0] == 1) {
                        undo(key, limits, tokens);
                    }
                });
    }

    /**
     * Key and deployment in one call of the script (operation 3), when {@code other} is a store on
     * the same connection: both consumed or neither, one round trip. Past the budget or without
     * Redis, both are checked on the local fallback stores, the first undone there if the second
     * refuses.
     */
    @Override
    public CompletableFuture<Boolean> tryAcquireWithAsync(String key, Limits limits, Permit out, LimitStore other,
                                                          String otherKey, Limits otherLimits, Permit otherOut,
                                                          long tokens, long nowNanos) {
        if (!(other instanceof RedisLimitStore o) || o.batches != batches) {
            return null;
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        if (!link.up()) {
            return fallbackPairAsync(key, limits, out, o, otherKey, otherLimits, otherOut, tokens, nowNanos, null);
        }
        long asked = System.nanoTime();
        long[] args = new long[12];
        limitArgs(limits, tokens, args, 0);
        limitArgs(otherLimits, tokens, args, 6);
        return decide(batches.submit(new byte[][] {redisKeyBytes(key), o.redisKeyBytes(otherKey)}, 3, args, 6), asked,
                why -> fallbackPairAsync(key, limits, out, o, otherKey, otherLimits, otherOut, tokens,
                        nowNanos + (System.nanoTime() - asked), why),
                r -> {
                    metrics.redisChecks.add(2);
                    long first = r[0];
                    if (first == 0) {
                        return verdict(r, 0, out);
                    }
                    if (first == -2) {
                        out.notTaken(r[1], r[2]);
                        return verdict(r, 3, otherOut);
                    }
                    verdict(r, 0, out);
                    return verdict(r, 3, otherOut);
                },
                r -> {
                    if (r[0] == 1) {
                        undo(key, limits, tokens);
                        o.undo(otherKey, otherLimits, tokens);
                    }
                });
    }

    /** Writes the acquire verdict at {@code r[at..at+2]} into {@code out}; returns whether it admitted. */
    private static boolean verdict(long[] r, int at, Permit out) {
        if (r[at] == 1) {
            out.grant(r[at + 1], r[at + 2]);
            return true;
        }
        long waitMicros = r[at + 2];
        out.deny((int) r[at + 1], waitMicros < 0 ? RateLimit.NEVER : waitMicros * 1000);
        return false;
    }

    /**
     * The verdict of a check sent to Redis: Redis's answer ({@code apply}) when it comes within the
     * budget, else {@code fallback} with the reason, from the budget timer (its own thread) or on
     * the failure. The first of the two to {@code claim} decides and alone writes the permits; a
     * Redis answer that comes after the timer decided goes to {@code undoLate}, since the request
     * went by the fallback's verdict and anything Redis granted must be given back there.
     */
    private CompletableFuture<Boolean> decide(CompletableFuture<long[]> sent, long asked,
                                              Function<String, CompletableFuture<Boolean>> fallback,
                                              Function<long[], Boolean> apply, Consumer<long[]> undoLate) {
        CompletableFuture<Boolean> verdict = new CompletableFuture<>();
        AtomicBoolean claimed = new AtomicBoolean();
        long budgetNanos = link.settings().budget().toNanos();
        ScheduledFuture<?> timer = link.budgetTimer().schedule(() -> {
            if (claimed.compareAndSet(false, true)) {
                settle(verdict, fallback.apply("did not answer within " + link.settings().budget().toMillis() + " ms"));
            }
        }, Math.max(0, budgetNanos - (System.nanoTime() - asked)), TimeUnit.NANOSECONDS);
        sent.whenComplete((r, e) -> {
            if (!claimed.compareAndSet(false, true)) {
                if (e == null) {
                    undoLate.accept(r);
                }
                return;
            }
            timer.cancel(false);
            if (e != null) {
                settle(verdict, fallback.apply(RedisLink.failure(e).getMessage()));
                return;
            }
            try {
                verdict.complete(apply.apply(r));
            } catch (RuntimeException bad) {
                verdict.completeExceptionally(bad);
            }
        });
        return verdict;
    }

    /** Completes {@code verdict} as the (already complete) {@code fallback} completed. */
    private static void settle(CompletableFuture<Boolean> verdict, CompletableFuture<Boolean> fallback) {
        fallback.whenComplete((ok, e) -> {
            if (e == null) {
                verdict.complete(ok);
            } else {
                verdict.completeExceptionally(e);
            }
        });
    }

    /** Both checks on the local fallback stores, all or none: the first is undone locally if the second refuses. */
    private CompletableFuture<Boolean> fallbackPairAsync(String key, Limits limits, Permit out, RedisLimitStore o,
                                                         String otherKey, Limits otherLimits, Permit otherOut,
                                                         long tokens, long nowNanos, String why) {
        try {
            if (!fallback(key, limits, tokens, nowNanos, out, why)) {
                return CompletableFuture.completedFuture(false);
            }
            if (o.fallback(otherKey, otherLimits, tokens, nowNanos, otherOut, why)) {
                return CompletableFuture.completedFuture(true);
            }
            undoLocal(key, limits, tokens, nowNanos);
            out.notTaken(Limits.UNLIMITED, Limits.UNLIMITED);
            return CompletableFuture.completedFuture(false);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Gives back, on the local fallback store only, what {@link #fallback} took for one request. */
    private void undoLocal(String key, Limits limits, long tokens, long nowNanos) {
        if (limits.tokens() != Limits.UNLIMITED && tokens > 0) {
            local.adjustTokens(key, limits, -tokens, nowNanos);
        }
        if (limits.requests() != Limits.UNLIMITED) {
            local.refundRequest(key, limits, nowNanos);
        }
        if (limits.maxParallel() != Limits.UNLIMITED) {
            releasedLocally(key, limits);
        }
    }

    private CompletableFuture<Boolean> fallbackAsync(String key, Limits limits, long tokens, long nowNanos, Permit out,
                                                     String why) {
        try {
            return CompletableFuture.completedFuture(fallback(key, limits, tokens, nowNanos, out, why));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void undo(String key, Limits limits, long tokens) {
        send(key, limits.requests() > 0 ? -intervalMicros(limits, limits.requests()) : 0,
                limits.tokens() > 0 ? cost(-tokens, intervalMicros(limits, limits.tokens())) : 0,
                limits.maxParallel() >= 0 ? -1 : 0);
    }

    private boolean fallback(String key, Limits limits, long tokens, long nowNanos, Permit out, String why) {
        metrics.unavailable(why == null ? "is not connected" : why);
        if (link.settings().failurePolicy() == RedisSettings.FailurePolicy.REFUSE) {
            String message = "Redis at " + link.settings().redactedUri() + " "
                    + (why == null ? "is not connected" : why)
                    + "; limits cannot be checked across instances (redis_failure_policy: refuse)";
            if (refusal == null) {
                out.deny(Permit.CAPACITY, 1_000_000_000L);
                return false;
            }
            throw refusal.apply(message);
        }
        metrics.localChecks.increment();
        boolean ok = local.tryAcquire(key, limits, tokens, nowNanos, out);
        if (ok && limits.maxParallel() != Limits.UNLIMITED) {
            localHeld.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        }
        return ok;
    }

    /** Sends an adjust (in the next LIMITS batch) without waiting; the future fails when Redis cannot take it. */
    private CompletableFuture<long[]> send(String key, long requestCost, long tokenCost, long inFlightDelta) {
        return batches.submit(new byte[][] {redisKeyBytes(key)}, 2, new long[] {requestCost, tokenCost, inFlightDelta}, 1);
    }

    @Override
    public void adjustTokens(String key, Limits limits, long tokens, long nowNanos) {
        settle(key, limits, tokens, false, nowNanos);
    }

    @Override
    public void refundRequest(String key, Limits limits, long nowNanos) {
        if (limits.requests() <= 0) {
            return;
        }
        local.refundRequest(key, limits, nowNanos);
        send(key, -intervalMicros(limits, limits.requests()), 0, 0);
    }

    @Override
    public void releaseParallel(String key, Limits limits) {
        if (!releasedLocally(key, limits)) {
            release(key, 1);
        }
    }

    private void release(String key, long n) {
        sendKeepingReleases(key, 0, n);
    }

    /**
     * Reconcile and release in one adjustment: the end of a request is then one call per key.
     * The slot is freed where it was taken (the fallback store, while Redis was away).
     */
    @Override
    public void settle(String key, Limits limits, long tokens, boolean release, long nowNanos) {
        long tokenCost = settledTokenCost(key, limits, tokens, nowNanos);
        long freed = release && !releasedLocally(key, limits) ? 1 : 0;
        if (tokenCost != 0 || freed != 0) {
            sendKeepingReleases(key, tokenCost, freed);
        }
    }

    /** Both ends of a request in one call (operation 4) when {@code other} is on the same connection. */
    @Override
    public boolean settleWith(String key, Limits limits, long tokens, boolean release, LimitStore other,
                              String otherKey, Limits otherLimits, long otherTokens, boolean otherRelease, long nowNanos) {
        if (!(other instanceof RedisLimitStore o) || o.batches != batches) {
            return false;
        }
        long tokenCost = settledTokenCost(key, limits, tokens, nowNanos);
        long freed = release && !releasedLocally(key, limits) ? 1 : 0;
        long otherCost = o.settledTokenCost(otherKey, otherLimits, otherTokens, nowNanos);
        long otherFreed = otherRelease && !o.releasedLocally(otherKey, otherLimits) ? 1 : 0;
        boolean mine = tokenCost != 0 || freed != 0;
        boolean theirs = otherCost != 0 || otherFreed != 0;
        if (mine && theirs) {
            CompletableFuture<long[]> sent = batches.submit(new byte[][] {redisKeyBytes(key), o.redisKeyBytes(otherKey)}, 4,
                    new long[] {0, tokenCost, -freed, 0, otherCost, -otherFreed}, 2);
            if (freed > 0 || otherFreed > 0) {
                sent.exceptionally(e -> {
                    keepRelease(key, freed);
                    o.keepRelease(otherKey, otherFreed);
                    return null;
                });
            }
        } else if (mine) {
            sendKeepingReleases(key, tokenCost, freed);
        } else if (theirs) {
            o.sendKeepingReleases(otherKey, otherCost, otherFreed);
        }
        return true;
    }

    /**
     * The token correction to send to Redis, in µs of the token bucket. Applied to the fallback
     * store too: the permit may have come from there, and otherwise it only makes the fallback
     * limits stricter or looser by this request's own correction.
     */
    private long settledTokenCost(String key, Limits limits, long tokens, long nowNanos) {
        if (tokens == 0 || limits.tokens() <= 0) {
            return 0;
        }
        local.adjustTokens(key, limits, tokens, nowNanos);
        return cost(tokens, intervalMicros(limits, limits.tokens()));
    }

    /**
     * Whether this instance holds a slot of {@code key} taken from the fallback store (while Redis
     * was away); if so, frees it there. Otherwise the slot is on Redis and the caller releases it there.
     */
    private boolean releasedLocally(String key, Limits limits) {
        AtomicLong held = localHeld.get(key);
        if (held != null && held.getAndUpdate(v -> v > 0 ? v - 1 : v) > 0) {
            local.releaseParallel(key, limits);
            return true;
        }
        return false;
    }

    private void keepRelease(String key, long n) {
        if (n > 0) {
            pendingReleases.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(n);
        }
    }

    /** Sends a token adjustment and {@code freed} releases; releases Redis does not get wait for {@link #cleanup}. */
    private void sendKeepingReleases(String key, long tokenCost, long freed) {
        CompletableFuture<long[]> sent = send(key, 0, tokenCost, -freed);
        if (freed > 0) {
            sent.exceptionally(e -> {
                keepRelease(key, freed);
                return null;
            });
        }
    }

    /** Sends the releases Redis missed and runs the fallback store's maintenance. */
    @Override
    public long cleanup(long nowNanos) {
        if (link.up()) {
            for (Map.Entry<String, AtomicLong> e : pendingReleases.entrySet()) {
                long n = e.getValue().getAndSet(0);
                if (n > 0) {
                    release(e.getKey(), n);
                }
            }
        }
        return Math.min(local.cleanup(nowNanos), 1_000_000_000L);
    }

    /** Keys the local fallback store holds (Redis holds the shared ones and expires them itself). */
    @Override
    public int size() {
        return local.size();
    }
}
