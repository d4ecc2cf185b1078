package io.fastlitellm.router;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The single-instance {@link DeploymentStateStore}: lock-free except for the latency windows.
 *
 * <p>Invariants: a slot's per-minute counters live in one immutable {@code Minute} snapshot swapped
 * by CAS, so a reader never sees requests of one minute with tokens of another, and a new minute
 * starts from zero the first time anyone writes in it (readers asking about a minute the snapshot is
 * not for get 0). In-flight counts never go below zero. Latency windows are guarded by their own
 * monitor (written on reports only, never on selection); their mean is published through a volatile.
 */
public final class InMemoryDeploymentStateStore implements DeploymentStateStore {
    /** LiteLLM keeps the last 10 latency samples per deployment ({@code max_latency_list_size}). */
    public static final int LATENCY_WINDOW = 10;

    private record Minute(long minute, long requests, long tokens, long successes, long failures) {
    }

    private static final class Window {
        final long[] samples = new long[LATENCY_WINDOW];
        int count;
        int next;
        volatile long mean = -1;

        synchronized void add(long v) {
            samples[next] = v;
            next = (next + 1) % samples.length;
            if (count < samples.length) count++;
            long sum = 0;
            for (int i = 0; i < count; i++) sum += samples[i];
            mean = sum / count;
        }
    }

    private static final class Slot {
        final AtomicLong inFlight = new AtomicLong();
        final AtomicReference<Minute> minute = new AtomicReference<>(new Minute(Long.MIN_VALUE, 0, 0, 0, 0));
        final Window latency = new Window();
        final Window ttft = new Window();
    }

    private final Slot[] slots;
    /** Read on every selection: kept in one flat array rather than in the slots, to save a cache miss. */
    private final AtomicLongArray cooldownUntil;

    public InMemoryDeploymentStateStore(int deployments) {
        if (deployments < 0) throw new IllegalArgumentException("deployments: " + deployments + " (expected: >= 0)");
        slots = new Slot[deployments];
        for (int i = 0; i < deployments; i++) slots[i] = new Slot();
        cooldownUntil = new AtomicLongArray(deployments);
        for (int i = 0; i < deployments; i++) cooldownUntil.set(i, NO_COOLDOWN);
    }

    @Override
    public long inFlight(int slot) {
        return slots[slot].inFlight.get();
    }

    @Override
    public void addInFlight(int slot, long delta) {
        AtomicLong a = slots[slot].inFlight;
        long cur;
        do {
            cur = a.get();
        } while (!a.compareAndSet(cur, Math.max(0, cur + delta)));
    }

    private Minute current(int slot, long minute) {
        Minute m = slots[slot].minute.get();
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
        AtomicReference<Minute> ref = slots[slot].minute;
        while (true) {
            Minute m = ref.get();
            Minute next;
            if (m.minute == minute) {
                next = new Minute(minute, m.requests + requests, m.tokens + tokens, m.successes + successes, m.failures + failures);
            } else if (m.minute == Long.MIN_VALUE || minute > m.minute) {
                next = new Minute(minute, requests, tokens, successes, failures);
            } else {
                return; // a late report for a minute already closed: it no longer matters
            }
            if (ref.compareAndSet(m, next)) return;
        }
    }

    @Override
    public void addLatencySample(int slot, boolean timeToFirstToken, long nanosPerToken) {
        (timeToFirstToken ? slots[slot].ttft : slots[slot].latency).add(Math.max(0, nanosPerToken));
    }

    @Override
    public long averageLatency(int slot, boolean timeToFirstToken) {
        return (timeToFirstToken ? slots[slot].ttft : slots[slot].latency).mean;
    }

    @Override
    public long cooldownUntil(int slot) {
        return cooldownUntil.get(slot);
    }

    @Override
    public void setCooldownUntil(int slot, long untilNanos) {
        cooldownUntil.set(slot, untilNanos);
    }
}
