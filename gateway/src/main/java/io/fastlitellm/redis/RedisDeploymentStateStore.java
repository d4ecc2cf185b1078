package io.fastlitellm.redis;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.DeploymentStateStore;
import io.fastlitellm.router.InMemoryDeploymentStateStore;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The router's per-deployment state shared through Redis: requests in flight ({@code least-busy}),
 * requests, tokens, successes and failures per minute ({@code usage-based-routing-v2}, cooldown
 * decisions) and cooldown deadlines. Latency samples stay per instance (each instance measures its
 * own path to the upstream).
 *
 * <p>As {@link DeploymentStateStore} requires, the router's reads never wait for Redis: they are
 * served from a local mirror. Writes update the mirror and go to Redis as one script each, without
 * waiting. {@link #refresh} (every 100 ms, off the request path) replaces the mirror with what Redis
 * holds, which includes every instance's writes; the router then re-reads it
 * ({@code Router.refreshFromStore}). So another instance's usage and cooldowns are seen within one
 * refresh interval plus a round trip; this instance's own at once. While Redis is down the mirror
 * keeps counting this instance's own traffic.
 *
 * <p>Keys: {@code {fl:d:<id>}} (hash: {@code if} in flight, {@code cd} cooldown deadline) and
 * {@code {fl:d:<id>}:m:<minute>} (hash: {@code req tok ok fail}, expires after two minutes): one hash
 * tag per deployment, so one script's keys share a Redis Cluster slot. Minutes and deadlines are on
 * the router's clock, which must be the shared wall clock ({@link RedisState#clock()}).
 *
 * <p>Concurrency: mirror cells are atomics written by request threads (their own deltas) and by the
 * refresh thread (Redis's totals). A refresh never hides this instance's own writes: every write
 * adds its delta to a running total ({@code sent}) and is sent while holding {@code order}'s read
 * lock; a refresh takes the write lock to snapshot those totals and send its reads, so each write is
 * either in what Redis answers (sent before the read on the same connection, which Redis runs in
 * order) or in the difference between the totals now and the snapshot, never both nor neither.
 */
final class RedisDeploymentStateStore implements DeploymentStateStore {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    /** IN_FLIGHT. ARGV: delta. In flight never below zero; a key left by a dead instance expires in an hour. */
    static final RedisLink.Script IN_FLIGHT = RedisLink.Script.of("in-flight", """
            local v = redis.call('HINCRBY', KEYS[1], 'if', ARGV[1])
            if v < 0 then redis.call('HSET', KEYS[1], 'if', 0) end
            redis.call('PEXPIRE', KEYS[1], 3600000)
            return v
            """);

    /** USAGE on the minute's hash. ARGV: requests, tokens, successes, failures. */
    static final RedisLink.Script USAGE = RedisLink.Script.of("usage", """
            local f = {'req', 'tok', 'ok', 'fail'}
            for i = 1, 4 do
              if ARGV[i] ~= '0' then redis.call('HINCRBY', KEYS[1], f[i], ARGV[i]) end
            end
            redis.call('PEXPIRE', KEYS[1], 120000)
            return 1
            """);

    /** COOLDOWN. ARGV: deadline (router clock, ns), kept only if later than the one there. */
    static final RedisLink.Script COOLDOWN = RedisLink.Script.of("cooldown", """
            local cur = redis.call('HGET', KEYS[1], 'cd')
            if not cur or #cur < #ARGV[1] or (#cur == #ARGV[1] and cur < ARGV[1]) then
              redis.call('HSET', KEYS[1], 'cd', ARGV[1])
            end
            redis.call('PEXPIRE', KEYS[1], 3600000)
            return 1
            """);

    /** READ: {in flight, cooldown deadline (string, may be false), req, tok, ok, fail}. */
    static final RedisLink.Script READ = RedisLink.Script.of("read", """
            local s = redis.call('HMGET', KEYS[1], 'if', 'cd')
            local m = redis.call('HMGET', KEYS[2], 'req', 'tok', 'ok', 'fail')
            return {tonumber(s[1]) or 0, s[2] or '', tonumber(m[1]) or 0, tonumber(m[2]) or 0,
                    tonumber(m[3]) or 0, tonumber(m[4]) or 0}
            """);

    private record Minute(long minute, long requests, long tokens, long successes, long failures) {
    }

    private final RedisLink link;
    private final String[] stateKeys;
    private final AtomicLongArray inFlight;
    private final AtomicLongArray cooldownUntil;
    private final AtomicReferenceArray<Minute> minutes;
    private final InMemoryDeploymentStateStore latency;
    /** Running totals of this instance's writes, per slot: in flight, requests, tokens, successes, failures. */
    private final AtomicLongArray sent;
    private final ReentrantReadWriteLock order = new ReentrantReadWriteLock();
    private static final int S_IF = 0;
    private static final int S_REQ = 1;
    private static final int S_TOK = 2;
    private static final int S_OK = 3;
    private static final int S_FAIL = 4;

    RedisDeploymentStateStore(RedisLink link, List<Deployment> deployments) {
        this.link = link;
        int n = deployments.size();
        this.stateKeys = new String[n];
        for (int i = 0; i < n; i++) {
            stateKeys[i] = "{fl:d:" + deployments.get(i).id() + "}";
        }
        this.inFlight = new AtomicLongArray(n);
        this.cooldownUntil = new AtomicLongArray(n);
        this.minutes = new AtomicReferenceArray<>(n);
        for (int i = 0; i < n; i++) {
            cooldownUntil.set(i, NO_COOLDOWN);
            minutes.set(i, new Minute(Long.MIN_VALUE, 0, 0, 0, 0));
        }
        this.latency = new InMemoryDeploymentStateStore(n);
        this.sent = new AtomicLongArray(n * 5);
    }

    private String minuteKey(int slot, long minute) {
        return stateKeys[slot] + ":m:" + minute;
    }

    @Override
    public long inFlight(int slot) {
        return inFlight.get(slot);
    }

    @Override
    public void addInFlight(int slot, long delta) {
        inFlight.getAndUpdate(slot, v -> Math.max(0, v + delta));
        order.readLock().lock();
        try {
            sent.addAndGet(slot * 5 + S_IF, delta);
            link.run(IN_FLIGHT, ScriptOutputType.INTEGER, new String[] {stateKeys[slot]}, Long.toString(delta));
        } finally {
            order.readLock().unlock();
        }
    }

    private Minute current(int slot, long minute) {
        Minute m = minutes.get(slot);
        return m.minute == minute ? m : null;
    }

    @Override
    public long requestsInMinute(int slot, long minute) {
        Minute m = current(slot, minute);
        return m == null ? 0 : m.requests;
    }

    @Override
    public long tokensInMinute(int slot, long minute) {
        Minute m = current(slot, minute);
        return m == null ? 0 : m.tokens;
    }

    @Override
    public long successesInMinute(int slot, long minute) {
        Minute m = current(slot, minute);
        return m == null ? 0 : m.successes;
    }

    @Override
    public long failuresInMinute(int slot, long minute) {
        Minute m = current(slot, minute);
        return m == null ? 0 : m.failures;
    }

    @Override
    public void addUsage(int slot, long minute, long requests, long tokens) {
        update(slot, minute, requests, tokens, 0, 0);
    }

    @Override
    public void recordOutcome(int slot, long minute, boolean success) {
        update(slot, minute, 0, 0, success ? 1 : 0, success ? 0 : 1);
    }

    private void update(int slot, long minute, long requests, long tokens, long successes, long failures) {
        minutes.getAndUpdate(slot, m -> {
            if (m.minute == minute) {
                return new Minute(minute, m.requests + requests, m.tokens + tokens,
                        m.successes + successes, m.failures + failures);
            }
            return minute > m.minute ? new Minute(minute, requests, tokens, successes, failures) : m;
        });
        order.readLock().lock();
        try {
            int b = slot * 5;
            sent.addAndGet(b + S_REQ, requests);
            sent.addAndGet(b + S_TOK, tokens);
            sent.addAndGet(b + S_OK, successes);
            sent.addAndGet(b + S_FAIL, failures);
            link.run(USAGE, ScriptOutputType.INTEGER, new String[] {minuteKey(slot, minute)},
                    Long.toString(requests), Long.toString(tokens), Long.toString(successes), Long.toString(failures));
        } finally {
            order.readLock().unlock();
        }
    }

    @Override
    public void addLatencySample(int slot, boolean timeToFirstToken, long nanosPerToken) {
        latency.addLatencySample(slot, timeToFirstToken, nanosPerToken);
    }

    @Override
    public long averageLatency(int slot, boolean timeToFirstToken) {
        return latency.averageLatency(slot, timeToFirstToken);
    }

    @Override
    public long cooldownUntil(int slot) {
        return cooldownUntil.get(slot);
    }

    @Override
    public void setCooldownUntil(int slot, long untilNanos) {
        cooldownUntil.set(slot, untilNanos);
        if (untilNanos != NO_COOLDOWN) {
            link.run(COOLDOWN, ScriptOutputType.INTEGER, new String[] {stateKeys[slot]}, Long.toString(untilNanos));
        }
    }

    /**
     * Replaces the mirror with Redis's state for minute {@code nowNanos / 60 s}: all deployments in
     * one pipelined batch, waiting at most {@code budgetNanos}. Returns whether Redis answered; when
     * it did not, the mirror is left as it is.
     */
    boolean refresh(long nowNanos, long budgetNanos) {
        if (!link.up() || stateKeys.length == 0) {
            return false;
        }
        long minute = Math.floorDiv(nowNanos, MINUTE_NANOS);
        long deadline = System.nanoTime() + budgetNanos;
        List<CompletableFuture<List<Object>>> replies = new ArrayList<>(stateKeys.length);
        long[] snapshot = new long[sent.length()];
        order.writeLock().lock();
        try {
            for (int i = 0; i < snapshot.length; i++) {
                snapshot[i] = sent.get(i);
            }
            for (int i = 0; i < stateKeys.length; i++) {
                replies.add(link.run(READ, ScriptOutputType.MULTI, new String[] {stateKeys[i], minuteKey(i, minute)}));
            }
        } finally {
            order.writeLock().unlock();
        }
        try {
            for (int i = 0; i < stateKeys.length; i++) {
                List<Object> r = RedisLink.await(replies.get(i), deadline);
                int b = i * 5;
                inFlight.set(i, Math.max(0, (Long) r.get(0) + sent.get(b + S_IF) - snapshot[b + S_IF]));
                String cd = (String) r.get(1);
                long remote = cd.isEmpty() ? NO_COOLDOWN : Long.parseLong(cd);
                // A later deadline known here (set by this instance, script not yet run) is kept.
                cooldownUntil.getAndUpdate(i, local -> local == NO_COOLDOWN || (remote != NO_COOLDOWN && remote - local > 0)
                        ? remote : local);
                // Writes since the snapshot are counted in this minute: at a minute's turn, at worst a
                // few requests of the old minute count in the new one until the next refresh.
                minutes.set(i, new Minute(minute,
                        (Long) r.get(2) + sent.get(b + S_REQ) - snapshot[b + S_REQ],
                        (Long) r.get(3) + sent.get(b + S_TOK) - snapshot[b + S_TOK],
                        (Long) r.get(4) + sent.get(b + S_OK) - snapshot[b + S_OK],
                        (Long) r.get(5) + sent.get(b + S_FAIL) - snapshot[b + S_FAIL]));
            }
            return true;
        } catch (TimeoutException | SharedStateUnavailableException | NumberFormatException e) {
            return false;
        }
    }
}
