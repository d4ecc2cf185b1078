package io.fastlitellm.ratelimit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-memory {@link LimitStore}: an open-addressing hash table, sized once for {@code maxKeys},
 * holding per key a reference to the caller's key string and three longs (request GCRA time, token
 * GCRA time, the key's hash beside its requests in flight). Sized for a load factor of 3/4 when full: 4/3 slots of 4 + 24
 * bytes, 37.3 bytes a key, the caller's strings aside; no object per key.
 *
 * <h2>Eviction</h2>
 * A key is idle when both its buckets are full ({@code tat <= now}) and nothing is in flight: its
 * state is then exactly a new key's, so evicting it loses nothing and a returning key starts where
 * it would have been anyway. {@link #cleanup} evicts every idle key; an insert into a table that holds
 * {@code maxKeys} runs it first, and when no key is idle the new key is refused
 * ({@link Permit#CAPACITY}) rather than any limit being forgotten.
 *
 * <h2>Concurrency invariants</h2>
 * <ul>
 *   <li>Checks of known keys take no lock: a probe for the key, then one CAS per limit on the key's
 *       cells. Inserting a new key and {@link #cleanup} hold {@code writeLock}, so inserts never race
 *       each other (a key is in the table at most once) nor an eviction. Refunds and charges after
 *       the fact hold it too (see {@link #adjustTokens}); releasing a parallel slot needs no lock,
 *       since a key with requests in flight is never evicted.</li>
 *   <li>A slot's key goes null → key → {@link Evicting} → (key | {@link #TOMBSTONE}) → key' ...;
 *       only the lock holder writes a key or a tombstone; a checker may only turn an {@code Evicting}
 *       back into its key (cancelling the eviction). A chain of probes from a key's home slot to the
 *       key never crosses null.</li>
 *   <li>Cells are never reset: a slot is reused only when its state is idle, which equals a new key's.</li>
 *   <li>A checker writes cells and then re-reads the slot's key; the evictor marks the key and then
 *       re-reads the cells. With volatile accesses at least one sees the other: either the evictor
 *       finds the key busy and backs off, or the checker finds its key gone, undoes its writes (each
 *       an exact inverse) and retries on the key's new slot. So no consumption is ever lost to an
 *       eviction; a reused slot can at worst briefly carry a stale checker's consumption, which makes
 *       its new key's checks stricter, never looser.</li>
 *   <li>Several limits of a key are consumed one CAS at a time and rolled back when a later one
 *       refuses: the final state is all or none; a concurrent check may be refused by a consumption
 *       that is about to be rolled back (conservative).</li>
 * </ul>
 */
final class KeyTable implements LimitStore {

    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

    static final int STRIDE = 3;
    private static final int REQ = 0;
    private static final int TOK = 1;
    /** High 32 bits: the key's hash, so probes past other keys need not read their strings; low 32: requests in flight. */
    private static final int PAR = 2;
    private static final long IN_FLIGHT = 0xFFFF_FFFFL;

    /** A slot whose key was evicted; probes go past it, inserts reuse it. */
    static final Object TOMBSTONE = new Object() {
        @Override
        public String toString() {
            return "TOMBSTONE";
        }
    };

    /** A slot being evicted; a checker for the key may cancel by putting the key back. */
    private static final class Evicting {
        final String key;

        Evicting(String key) {
            this.key = key;
        }
    }

    private final Object[] keys;
    private final long[] cells;
    private final int capacity;
    private final int maxKeys;
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile int size;

    KeyTable(int maxKeys) {
        if (maxKeys < 1 || maxKeys > 1 << 28) {
            throw new IllegalArgumentException("maxKeys: " + maxKeys + " (expected: 1..268435456)");
        }
        this.maxKeys = maxKeys;
        // Load factor at most 3/4 when full, so that probes stay short; any size, not a power of
        // two, since rounding up to one would cost up to twice the memory.
        int capacity = (int) Math.max(16, (long) maxKeys * 4 / 3 + 1);
        this.capacity = capacity;
        this.keys = new Object[capacity];
        this.cells = new long[capacity * STRIDE];
        for (int i = 0; i < capacity; i++) {
            cells[i * STRIDE + REQ] = Long.MIN_VALUE;
            cells[i * STRIDE + TOK] = Long.MIN_VALUE;
        }
    }

    int capacity() {
        return capacity;
    }

    /** The lock of inserts and evictions, for tests that show known keys are checked without it. */
    ReentrantLock writeLock() {
        return writeLock;
    }

    @Override
    public int size() {
        return size;
    }

    /**
     * Fibonacci hashing (String hashes of similar keys differ in low bits only), then the high bits
     * scaled to the capacity by a multiply instead of a modulo (Lemire's fast range).
     */
    private int home(int hash) {
        return (int) (((hash * 0x9E3779B9) & 0xFFFF_FFFFL) * capacity >>> 32);
    }

    private int after(int slot) {
        return slot + 1 == capacity ? 0 : slot + 1;
    }

    /** The key's slot, or -1. Lock-free. */
    private int find(String key) {
        int hash = key.hashCode();
        int i = home(hash);
        for (int probes = 0; probes < capacity; ) {
            Object k = KEYS.getAcquire(keys, i);
            if (k == null) {
                return -1;
            }
            if (k == key) {
                return i;
            }
            // Compare the hash kept in the cells before touching k at all: even instanceof reads k's
            // header, a cache miss per probe at a million keys. A slot reused meanwhile may show the
            // new key's hash: stillOwns catches that.
            if (k != TOMBSTONE && (int) ((long) CELLS.getAcquire(cells, i * STRIDE + PAR) >>> 32) == hash) {
                if (k instanceof String s) {
                    if (s.equals(key)) {
                        return i;
                    }
                } else if (k instanceof Evicting e && e.key.equals(key)) {
                    KEYS.compareAndSet(keys, i, e, e.key);
                    continue; // read the slot again: the key is back, or the eviction won
                }
            }
            i = after(i);
            probes++;
        }
        return -1;
    }

    /** The key's slot, inserting it if absent; -1 when the table is full of busy keys. */
    private int findOrInsert(String key, long nowNanos) {
        int i = find(key);
        return i >= 0 ? i : insert(key, nowNanos);
    }

    private int insert(String key, long nowNanos) {
        writeLock.lock();
        try {
            int i = find(key);
            if (i >= 0) {
                return i;
            }
            if (size >= maxKeys) {
                evictIdle(nowNanos);
                if (size >= maxKeys) {
                    return -1;
                }
            }
            int slot = home(key.hashCode());
            while (true) {
                Object k = keys[slot];
                if (k == null || k == TOMBSTONE) {
                    break;
                }
                slot = after(slot);
            }
            // Keep the in-flight half: a stale checker may be about to undo its increment here.
            int idx = slot * STRIDE + PAR;
            long hashBits = (long) key.hashCode() << 32;
            for (;;) {
                long cell = (long) CELLS.getVolatile(cells, idx);
                if (CELLS.compareAndSet(cells, idx, cell, hashBits | (cell & IN_FLIGHT))) {
                    break;
                }
            }
            KEYS.setVolatile(keys, slot, key);
            size = size + 1;
            return slot;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Whether slot {@code i} still belongs to {@code key} after this thread wrote its cells (see the
     * class invariants). Cancels an eviction in progress.
     */
    private boolean stillOwns(int i, String key) {
        for (;;) {
            Object k = KEYS.getVolatile(keys, i);
            if (k == key || (k instanceof String s && s.equals(key))) {
                return true;
            }
            if (k instanceof Evicting e && e.key.equals(key)) {
                if (KEYS.compareAndSet(keys, i, e, e.key)) {
                    return true;
                }
                continue;
            }
            return false;
        }
    }

    @Override
    public boolean tryAcquire(String key, Limits limits, long tokens, long nowNanos, Permit out) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        for (;;) {
            int i = findOrInsert(key, nowNanos);
            if (i < 0) {
                out.deny(Permit.CAPACITY, 0);
                return false;
            }
            boolean admitted = acquireAt(i * STRIDE, limits, tokens, nowNanos, out);
            if (stillOwns(i, key)) {
                return admitted;
            }
            if (admitted) {
                undoAt(i * STRIDE, limits, tokens, nowNanos);
            }
        }
    }

    /** One check on one slot's cells: all limits or none. */
    private boolean acquireAt(int base, Limits limits, long tokens, long now, Permit out) {
        long requestDebt = Limits.UNLIMITED;
        if (limits.requests != Limits.UNLIMITED) {
            requestDebt = take(base + REQ, 1, limits.requests, limits.requestIntervalNanos,
                    limits.requestCapacityNanos, now);
            if (requestDebt < 0) {
                out.deny(Permit.REQUESTS, waitOf(requestDebt));
                return false;
            }
        }
        long tokenDebt = Limits.UNLIMITED;
        if (limits.tokens != Limits.UNLIMITED) {
            if (tokens == 0) {
                tokenDebt = limits.tokens == 0 ? limits.tokenCapacityNanos
                        : Math.max((long) CELLS.getVolatile(cells, base + TOK), now) - now;
            } else {
                tokenDebt = take(base + TOK, tokens, limits.tokens, limits.tokenIntervalNanos,
                        limits.tokenCapacityNanos, now);
                if (tokenDebt < 0) {
                    giveBackRequest(base, limits, now);
                    out.deny(Permit.TOKENS, waitOf(tokenDebt));
                    return false;
                }
            }
        }
        if (limits.maxParallel != Limits.UNLIMITED) {
            for (;;) {
                long cell = (long) CELLS.getVolatile(cells, base + PAR);
                if ((cell & IN_FLIGHT) >= limits.maxParallel) {
                    giveBackRequest(base, limits, now);
                    if (tokens > 0 && limits.tokens != Limits.UNLIMITED) {
                        giveBack(base + TOK, Gcra.cost(tokens, limits.tokenIntervalNanos), now);
                    }
                    out.deny(Permit.PARALLEL, 0);
                    return false;
                }
                if (CELLS.compareAndSet(cells, base + PAR, cell, cell + 1)) {
                    break;
                }
            }
        }
        out.grantDebts(requestDebt, tokenDebt);
        return true;
    }

    private static long waitOf(long refused) {
        return refused == Gcra.NEVER ? RateLimit.NEVER : -refused;
    }

    /**
     * Takes {@code units} from the bucket in cell {@code idx}. Returns the bucket's debt after it
     * (>= 0, in nanoseconds), or minus the nanoseconds to wait, or {@link Gcra#NEVER}.
     */
    private long take(int idx, long units, long limit, long interval, long capacity, long now) {
        if (units > limit) {
            return Gcra.NEVER;
        }
        long cost = units * interval;
        for (;;) {
            long tat = (long) CELLS.getVolatile(cells, idx);
            long next = Gcra.taken(tat, now, cost);
            if (!Gcra.fits(next, now, capacity)) {
                return -Gcra.wait(next, now, capacity);
            }
            if (CELLS.compareAndSet(cells, idx, tat, next)) {
                return next - now;
            }
        }
    }

    private void giveBackRequest(int base, Limits limits, long now) {
        if (limits.requests != Limits.UNLIMITED) {
            giveBack(base + REQ, limits.requestIntervalNanos, now);
        }
    }

    private void giveBack(int idx, long cost, long now) {
        for (;;) {
            long tat = (long) CELLS.getVolatile(cells, idx);
            if (CELLS.compareAndSet(cells, idx, tat, Gcra.refunded(tat, now, cost))) {
                return;
            }
        }
    }

    private void charge(int idx, long cost, long now) {
        for (;;) {
            long tat = (long) CELLS.getVolatile(cells, idx);
            if (CELLS.compareAndSet(cells, idx, tat, Gcra.charged(tat, now, cost))) {
                return;
            }
        }
    }

    /** The exact inverse of a successful {@link #acquireAt}. */
    private void undoAt(int base, Limits limits, long tokens, long now) {
        giveBackRequest(base, limits, now);
        if (tokens > 0 && limits.tokens != Limits.UNLIMITED) {
            giveBack(base + TOK, Gcra.cost(tokens, limits.tokenIntervalNanos), now);
        }
        if (limits.maxParallel != Limits.UNLIMITED) {
            CELLS.getAndAdd(cells, base + PAR, -1L);
        }
    }

    /**
     * Under {@code writeLock}, so that no eviction or reuse of the slot can come between finding the
     * key and writing to it. Lock-free, a refund racing the eviction its own deposit made possible
     * could not tell whether it landed before (fine) or on the slot's next key (which it must take
     * back): one side or the other would be wrong. This runs once per request, after the upstream
     * answered, never on the check path; its cost is a lock acquisition, and at worst waiting out a
     * {@link #cleanup} scan.
     */
    @Override
    public void adjustTokens(String key, Limits limits, long tokens, long nowNanos) {
        if (tokens == 0 || limits.tokens == Limits.UNLIMITED || limits.tokens == 0) {
            return;
        }
        long cost = Gcra.cost(Math.abs(tokens), limits.tokenIntervalNanos);
        writeLock.lock();
        try {
            // A refund to an absent key is a deposit into a full bucket: nothing to do.
            int i = tokens > 0 ? findOrInsert(key, nowNanos) : find(key);
            if (i < 0) {
                return;
            }
            if (tokens > 0) {
                charge(i * STRIDE + TOK, cost, nowNanos);
            } else {
                giveBack(i * STRIDE + TOK, cost, nowNanos);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Under {@code writeLock}, as {@link #adjustTokens}. */
    @Override
    public void refundRequest(String key, Limits limits, long nowNanos) {
        if (limits.requests == Limits.UNLIMITED || limits.requests == 0) {
            return;
        }
        writeLock.lock();
        try {
            int i = find(key);
            if (i >= 0) {
                giveBack(i * STRIDE + REQ, limits.requestIntervalNanos, nowNanos);
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void releaseParallel(String key, Limits limits) {
        // A key with requests in flight is never evicted, so the slot found is the one acquired.
        int i = find(key);
        if (i < 0) {
            throw new IllegalStateException("releaseParallel: key '" + key
                    + "' holds no request in flight (expected: one release per admitted request)");
        }
        int idx = i * STRIDE + PAR;
        for (;;) {
            long cell = (long) CELLS.getVolatile(cells, idx);
            if ((cell & IN_FLIGHT) == 0) {
                throw new IllegalStateException("releaseParallel: key '" + key
                        + "' holds no request in flight (expected: one release per admitted request)");
            }
            if (CELLS.compareAndSet(cells, idx, cell, cell - 1)) {
                return;
            }
        }
    }

    /** Requests in flight for {@code key} (0 for an absent key), for tests and metrics. */
    long inFlight(String key) {
        int i = find(key);
        return i < 0 ? 0 : (long) CELLS.getVolatile(cells, i * STRIDE + PAR) & IN_FLIGHT;
    }

    /**
     * Evicts every idle key (see the class comment) and returns the nanoseconds until the earliest
     * remaining key becomes idle, but at least one second (a scan costs about a millisecond per
     * million slots, and nothing is lost by evicting late) and at most one minute.
     */
    @Override
    public long cleanup(long nowNanos) {
        writeLock.lock();
        try {
            return evictIdle(nowNanos);
        } finally {
            writeLock.unlock();
        }
    }

    private boolean idle(int base, long now) {
        return ((long) CELLS.getVolatile(cells, base + PAR) & IN_FLIGHT) == 0
                && (long) CELLS.getVolatile(cells, base + REQ) <= now
                && (long) CELLS.getVolatile(cells, base + TOK) <= now;
    }

    /** Holding writeLock. */
    private long evictIdle(long now) {
        long second = 1_000_000_000L;
        long next = 60 * second;
        int evicted = 0;
        for (int i = 0; i < capacity; i++) {
            if (!(keys[i] instanceof String key)) {
                continue;
            }
            int base = i * STRIDE;
            if (idle(base, now)) {
                Evicting mark = new Evicting(key);
                if (KEYS.compareAndSet(keys, i, key, mark)) {
                    if (idle(base, now)) {
                        if (KEYS.compareAndSet(keys, i, mark, TOMBSTONE)) {
                            evicted++;
                            continue;
                        }
                    } else {
                        KEYS.compareAndSet(keys, i, mark, key);
                    }
                }
            }
            long busyFor = Math.max(now, Math.max((long) CELLS.getVolatile(cells, base + REQ),
                    (long) CELLS.getVolatile(cells, base + TOK))) - now;
            next = Math.min(next, Math.max(second, busyFor));
        }
        if (evicted > 0) {
            size = size - evicted;
            clearTrailingTombstones();
        }
        return next;
    }

    /**
     * A tombstone followed by an empty slot ends every probe chain through it, so it can become
     * empty itself without hiding any key (no chain crosses an empty slot); walking backwards
     * clears whole runs. Keeps probes for absent keys short under key churn.
     */
    private void clearTrailingTombstones() {
        for (int pass = 0; pass < 2; pass++) { // the second pass finishes runs that wrap around slot 0
            for (int i = capacity - 1; i >= 0; i--) {
                if (keys[i] == TOMBSTONE && keys[after(i)] == null) {
                    KEYS.setVolatile(keys, i, null);
                }
            }
        }
    }
}
