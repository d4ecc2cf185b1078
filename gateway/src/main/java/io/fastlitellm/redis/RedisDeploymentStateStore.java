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
 * served from a local mirror. Writes update the mirror at once and are summed locally; every 100 ms,
 * off the request path, {@link #refresh} sends each deployment's sums and reads back the totals in
 * one script, so a request costs Redis nothing here (with one script per write, five per request,
 * {@code bench redis} counted 9 scripts per request instead of 4). Cooldowns are sent at once. So
 * another instance's usage is seen within about two refresh intervals, its cooldowns within one;
 * this instance's own at once. While Redis is down the mirror keeps counting this instance's own
 * traffic.
 *
 * <p>Keys: {@code {fl:d:<id>}} (hash: {@code if} in flight, {@code cd} cooldown deadline) and
 * {@code {fl:d:<id>}:m:<minute>} (hash: {@code req tok ok fail}, expires after two minutes): one hash
 * tag per deployment, so one script's keys share a Redis Cluster slot. Minutes and deadlines are on
 * the router's clock, which must be the shared wall clock ({@link RedisState#clock()}).
 *
 * <p>Concurrency: mirror cells are atomics written by request threads (their own deltas) and by the
 * refresh thread (Redis's totals plus what is still pending). A refresh never hides this instance's
 * own writes: a write adds to {@code pending} under {@code order}'s read lock; a refresh takes the
 * write lock to take the pending sums and send them, so each write is either in what Redis answers
 * or still pending when the answer is applied, never both nor neither. Usage is counted in the
 * minute of the sync that sends it: at a minute's turn up to one interval of usage moves over.
 */
final class RedisDeploymentStateStore implements DeploymentStateStore {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    /**
     * SYNC: applies this instance's deltas since the last sync and answers the totals, in one script.
     * KEYS: state hash, minute hash. ARGV: in-flight delta (total never below zero), requests, tokens,
     * successes, failures. Returns {in flight, cooldown deadline (string, '' when none), req, tok, ok, fail}.
     */
    static final RedisLink.Script SYNC = RedisLink.Script.of("sync", """
            local d = tonumber(ARGV[1])
            local v = tonumber(redis.call('HGET', KEYS[1], 'if') or '0')
            if d ~= 0 then
              v = math.max(0, v + d)
              redis.call('HSET', KEYS[1], 'if', v)
              -- in flight left by an instance that died frees itself within an hour
              redis.call('PEXPIRE', KEYS[1], 3600000)
            end
            local f = {'req', 'tok', 'ok', 'fail'}
            local any = false
            for i = 1, 4 do
              if ARGV[i + 1] ~= '0' then
                redis.call('HINCRBY', KEYS[2], f[i], ARGV[i + 1])
                any = true
              end
            end
            if any then redis.call('PEXPIRE', KEYS[2], 120000) end
            local m = redis.call('HMGET', KEYS[2], 'req', 'tok', 'ok', 'fail')
            local cd = redis.call('HGET', KEYS[1], 'cd')
            return {v, cd or '', tonumber(m[1]) or 0, tonumber(m[2]) or 0, tonumber(m[3]) or 0, tonumber(m[4]) or 0}
            """);

    /** COOLDOWN. ARGV: deadline (router clock, ns), kept only if later than the one there. Sent at once. */
    static final RedisLink.Script COOLDOWN = RedisLink.Script.of("cooldown", """
            local cur = redis.call('HGET', KEYS[1], 'cd')
            if not cur or #cur < #ARGV[1] or (#cur == #ARGV[1] and cur < ARGV[1]) then
              redis.call('HSET', KEYS[1], 'cd', ARGV[1])
            end
            redis.call('PEXPIRE', KEYS[1], 3600000)
            return 1
            """);

    private record Minute(long minute, long requests, long tokens, long successes, long failures) {
    }

    private final RedisLink link;
    private final String[] stateKeys;
    private final AtomicLongArray inFlight;
    private final AtomicLongArray cooldownUntil;
    private final AtomicReferenceArray<Minute> minutes;
    private final InMemoryDeploymentStateStore latency;
    /** This instance's writes not yet sent, per slot: in flight, requests, tokens, successes, failures. */
    private final AtomicLongArray pending;
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
        this.pending = new AtomicLongArray(n * 5);
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
            pending.addAndGet(slot * 5 + S_IF, delta);
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
            pending.addAndGet(b + S_REQ, requests);
            pending.addAndGet(b + S_TOK, tokens);
            pending.addAndGet(b + S_OK, successes);
            pending.addAndGet(b + S_FAIL, failures);
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
     * Sends this instance's writes since the last sync and replaces the mirror with Redis's totals
     * for minute {@code nowNanos / 60 s}: all deployments in one pipelined batch, one script each,
     * waiting at most {@code budgetNanos} in all. Each deployment whose script answered is brought
     * up to date, whatever the others did (on a Redis Cluster with a node away, the deployments on
     * the other nodes still are); one that did not answer keeps its mirror as it was, and the deltas
     * taken for it are lost to the other instances (never to this one). Returns whether any answered.
     */
    boolean refresh(long nowNanos, long budgetNanos) {
        if (!link.up() || stateKeys.length == 0) {
            return false;
        }
        long minute = Math.floorDiv(nowNanos, MINUTE_NANOS);
        long deadline = System.nanoTime() + budgetNanos;
        List<CompletableFuture<List<Object>>> replies = new ArrayList<>(stateKeys.length);
        order.writeLock().lock();
        try {
            // Taken and sent under the write lock: a delta is either in this sync's answer or still
            // pending afterwards, never both nor neither.
            for (int i = 0; i < stateKeys.length; i++) {
                int b = i * 5;
                replies.add(link.run(SYNC, ScriptOutputType.MULTI, new String[] {stateKeys[i], minuteKey(i, minute)},
                        Long.toString(pending.getAndSet(b + S_IF, 0)), Long.toString(pending.getAndSet(b + S_REQ, 0)),
                        Long.toString(pending.getAndSet(b + S_TOK, 0)), Long.toString(pending.getAndSet(b + S_OK, 0)),
                        Long.toString(pending.getAndSet(b + S_FAIL, 0))));
            }
        } finally {
            order.writeLock().unlock();
        }
        boolean any = false;
        for (int i = 0; i < stateKeys.length; i++) {
            List<Object> r;
            try {
                r = RedisLink.await(replies.get(i), deadline);
            } catch (TimeoutException | SharedStateUnavailableException e) {
                continue;
            }
            try {
                apply(i, minute, r);
                any = true;
            } catch (RuntimeException e) {
                // an answer of the wrong shape (not our script's): this deployment's mirror stays
            }
        }
        return any;
    }

    /** Redis's totals {@code r} for deployment {@code i}, plus what is still pending here, into the mirror. */
    private void apply(int i, long minute, List<Object> r) {
        int b = i * 5;
        String cd = (String) r.get(1);
        long remote = cd.isEmpty() ? NO_COOLDOWN : Long.parseLong(cd);
        inFlight.set(i, Math.max(0, (Long) r.get(0) + pending.get(b + S_IF)));
        // A later deadline known here (set by this instance, script not yet run) is kept.
        cooldownUntil.getAndUpdate(i, local -> local == NO_COOLDOWN || (remote != NO_COOLDOWN && remote - local > 0)
                ? remote : local);
        minutes.set(i, new Minute(minute, (Long) r.get(2) + pending.get(b + S_REQ),
                (Long) r.get(3) + pending.get(b + S_TOK), (Long) r.get(4) + pending.get(b + S_OK),
                (Long) r.get(5) + pending.get(b + S_FAIL)));
    }
}
