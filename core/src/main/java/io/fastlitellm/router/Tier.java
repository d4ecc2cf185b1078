package io.fastlitellm.router;

import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;

/**
 * The deployments of one pool that share one {@code order} value, with the index the routing
 * strategy needs to pick among them without scanning: a {@link SumTree} of weights for
 * simple-shuffle, a {@link MinTree} of keys (in-flight, tpm used, latency, cost) for the others.
 *
 * <p>Keys are recomputed from the {@link DeploymentStateStore} (never applied as deltas), so a refresh
 * is idempotent and the index converges to the store whatever the interleaving of reports.
 * Deployments in cooldown (and, for the usage, latency and cost strategies, over their rpm/tpm
 * limit) carry weight 0 / key INF; {@link #eligible} counts the others.
 *
 * <p>Invariants: tree writes and {@link #eligible} updates happen under {@link #lock}; selection
 * takes no lock. What selection reads from the tree is a candidate, re-checked against the store
 * ({@link Router#passes}); when the candidate fails a per-request check (context window, headroom,
 * tpm for this prompt) selection falls back to an exact scan of the tier.
 */
final class Tier {
    final Router router;
    final RoutingStrategy strategy;
    final int[] members;
    /** simple-shuffle weights in the tier's mode (weight x 1e6, else rpm, else tpm, else 1). */
    private final long[] weights;
    private final SumTree sum;
    /** simple-shuffle: O(1) draws over all weights; rejected draws fall back to {@link #sum}. */
    private final AliasTable alias;
    private final MinTree tree;
    private final MinTree ttftTree;
    /** The smallest context window in the tier: prompts up to it need no per-deployment check. */
    final long minMaxInputTokens;
    /** Keys depend on this minute's usage: rebuilt once when the minute changes. */
    private final boolean minuteSensitive;
    private volatile long minute = Long.MIN_VALUE;
    private volatile int eligible;
    /** simple-shuffle: which positions are out of cooldown (a weight of 0 does not say). Guarded by lock. */
    private final long[] shuffleEligible;
    private final ReentrantLock lock = new ReentrantLock();

    Tier(Router router, RoutingStrategy strategy, int[] members, boolean indexed) {
        this.router = router;
        this.strategy = strategy;
        this.members = members;
        long minMax = Long.MAX_VALUE;
        boolean limits = false;
        for (int d : members) {
            minMax = Math.min(minMax, router.maxInputTokens(d));
            Deployment dep = router.deployment(d);
            limits |= dep.rpm() != Deployment.UNSET || dep.tpm() != Deployment.UNSET;
        }
        this.minMaxInputTokens = minMax;
        boolean shuffle = strategy == RoutingStrategy.SIMPLE_SHUFFLE;
        // LiteLLM takes simple-shuffle's mode from the first *healthy* deployment; when members
        // differ in mode, which one that is changes with cooldowns and checks, so a precomputed
        // index would be wrong: such tiers are scanned, with the mode decided per request.
        if (shuffle && !oneShuffleMode(router, members)) indexed = false;
        this.weights = shuffle ? shuffleWeights(router, members) : null;
        this.alias = shuffle && indexed ? AliasTable.of(weights) : null;
        this.shuffleEligible = shuffle ? new long[(members.length + 63) >>> 6] : null;
        this.minuteSensitive = indexed && !shuffle && (limits || usesUsage());
        if (!indexed) {
            sum = null;
            tree = null;
            ttftTree = null;
        } else if (shuffle) {
            sum = new SumTree(members.length);
            tree = null;
            ttftTree = null;
        } else {
            sum = null;
            tree = new MinTree(members.length);
            ttftTree = strategy == RoutingStrategy.LATENCY_BASED_ROUTING ? new MinTree(members.length) : null;
        }
    }

    private boolean usesUsage() {
        return strategy == RoutingStrategy.USAGE_BASED_ROUTING || strategy == RoutingStrategy.USAGE_BASED_ROUTING_V2;
    }

    private static final int BY_WEIGHT = 0, BY_RPM = 1, BY_TPM = 2, UNIFORM = 3;

    /** The simple-shuffle mode a deployment sets when it is the first healthy one: weight, else rpm, else tpm, else uniform. */
    private static int shuffleMode(Deployment d) {
        if (!Double.isNaN(d.weight())) return BY_WEIGHT;
        if (d.rpm() != Deployment.UNSET) return BY_RPM;
        if (d.tpm() != Deployment.UNSET) return BY_TPM;
        return UNIFORM;
    }

    private static boolean oneShuffleMode(Router router, int[] members) {
        for (int d : members) {
            if (shuffleMode(router.deployment(d)) != shuffleMode(router.deployment(members[0]))) return false;
        }
        return true;
    }

    /** A deployment's weight in a mode; a missing figure is 0, as LiteLLM's {@code .get("weight", 0)}. */
    private static long shuffleWeight(Deployment d, int mode) {
        return switch (mode) {
            case BY_WEIGHT -> Double.isNaN(d.weight()) ? 0 : Math.round(d.weight() * 1_000_000);
            case BY_RPM -> Math.max(0, d.rpm());
            case BY_TPM -> Math.max(0, d.tpm());
            default -> 1;
        };
    }

    /** LiteLLM's simple-shuffle weights with the first deployment deciding the mode (exact when all members share it). */
    private static long[] shuffleWeights(Router router, int[] members) {
        long[] w = new long[members.length];
        if (members.length == 0) return w;
        int mode = shuffleMode(router.deployment(members[0]));
        for (int i = 0; i < members.length; i++) w[i] = shuffleWeight(router.deployment(members[i]), mode);
        return w;
    }

    /** Rebuilds the whole index from the store (construction, a new minute, {@link Router#refreshFromStore}). */
    void rebuild() {
        lock.lock();
        try {
            long now = router.now();
            rebuildLocked(now, Router.minuteOf(now));
        } finally {
            lock.unlock();
        }
    }

    private void rebuildLocked(long now, long minute) {
        if (tree == null && sum == null) return;
        this.minute = minute;
        for (int p = 0; p < members.length; p++) setLocked(p, now, minute);
    }

    /**
     * Recomputes one position's key from the store. The clock is read under the lock: a time read
     * before it could be older than a cooldown expiry processed meanwhile, and would leave the
     * deployment out of the index for good.
     */
    void refresh(int pos) {
        if (tree == null && sum == null) return;
        lock.lock();
        try {
            long now = router.now();
            setLocked(pos, now, Router.minuteOf(now));
        } finally {
            lock.unlock();
        }
    }

    private void setLocked(int pos, long now, long minute) {
        int d = members[pos];
        boolean cooling = router.inCooldown(d, now);
        boolean wasIn;
        boolean isIn;
        if (sum != null) {
            wasIn = (shuffleEligible[pos >>> 6] & (1L << pos)) != 0;
            isIn = !cooling;
            sum.set(pos, isIn ? weights[pos] : 0);
            if (isIn) shuffleEligible[pos >>> 6] |= 1L << pos;
            else shuffleEligible[pos >>> 6] &= ~(1L << pos);
        } else {
            boolean over = !cooling && strategy != RoutingStrategy.LEAST_BUSY && router.overLimit(d, minute);
            long k = cooling || over ? MinTree.INF : key(d, false, minute);
            boolean wasInf = tree.set(pos, k);
            if (ttftTree != null) ttftTree.set(pos, cooling || over ? MinTree.INF : key(d, true, minute));
            wasIn = !wasInf;
            isIn = k != MinTree.INF;
        }
        if (wasIn != isIn) eligible += isIn ? 1 : -1;
    }

    private long key(int d, boolean ttft, long minute) {
        DeploymentStateStore s = router.store();
        return switch (strategy) {
            case LEAST_BUSY -> s.inFlight(d);
            case USAGE_BASED_ROUTING, USAGE_BASED_ROUTING_V2 -> s.tokensInMinute(d, minute);
            case LATENCY_BASED_ROUTING -> {
                long avg = s.averageLatency(d, ttft);
                if (avg < 0 && ttft) avg = s.averageLatency(d, false);
                yield Math.max(0, avg); // never measured: 0, tried first, as LiteLLM does
            }
            case COST_BASED_ROUTING -> router.costKey(d);
            case SIMPLE_SHUFFLE -> throw new AssertionError();
        };
    }

    /**
     * The deployment this tier's strategy picks for the request, or -1 when none of its deployments
     * can take it.
     */
    int pick(long tokens, boolean stream, long now, long minute, RandomGenerator random) {
        if (tree == null && sum == null) return scan(tokens, stream, now, minute, random);
        if (minuteSensitive && minute != this.minute && lock.tryLock()) {
            try {
                long fresh = router.now();
                if (Router.minuteOf(fresh) != this.minute) rebuildLocked(fresh, Router.minuteOf(fresh));
            } finally {
                lock.unlock();
            }
        }
        if (minuteSensitive && minute != this.minute) {
            return scan(tokens, stream, now, minute, random); // another thread is rebuilding for the new minute
        }
        if (eligible == 0) return -1;
        if (sum != null) {
            if (alias != null) {
                for (int attempt = 0; attempt < 3; attempt++) {
                    int d = members[alias.sample(random)];
                    if (router.passes(this, d, tokens, now, minute)) return d;
                }
            }
            for (int attempt = 0; attempt < 4; attempt++) {
                int p = sum.sample(random);
                if (p < 0) break;
                int d = members[p];
                if (router.passes(this, d, tokens, now, minute)) return d;
            }
            return scan(tokens, stream, now, minute, random);
        }
        MinTree t = stream && ttftTree != null ? ttftTree : tree;
        long root = t.root();
        if (root == MinTree.INF) return -1;
        int p = MinTree.position(root);
        double buffer = router.settings().lowestLatencyBuffer();
        if (strategy == RoutingStrategy.LATENCY_BASED_ROUTING && buffer > 0) {
            p = withinBuffer(t, MinTree.key(root), buffer, random);
        }
        int d = members[p];
        if (router.passes(this, d, tokens, now, minute)) return d;
        return scan(tokens, stream, now, minute, random);
    }

    /** LiteLLM's lowest_latency_buffer: uniform among deployments within (1 + buffer) x the fastest. */
    private int withinBuffer(MinTree t, long best, double buffer, RandomGenerator random) {
        long limit = best + (long) (best * buffer);
        for (int attempt = 0; attempt < 8; attempt++) {
            int p = random.nextInt(members.length);
            long leaf = t.leaf(p);
            if (leaf != MinTree.INF && MinTree.key(leaf) <= limit) return p;
        }
        return t.descendWithin(limit, random);
    }

    /** The exact strategy over every deployment that passes all checks: O(n), used only when the index's candidate did not fit. */
    int scan(long tokens, boolean stream, long now, long minute, RandomGenerator random) {
        if (strategy == RoutingStrategy.SIMPLE_SHUFFLE) {
            long total = 0;
            int passing = 0;
            int mode = -1;
            long[] w = new long[members.length];
            for (int p = 0; p < members.length; p++) {
                if (router.passes(this, members[p], tokens, now, minute)) {
                    if (mode < 0) mode = shuffleMode(router.deployment(members[p])); // the first healthy one decides
                    w[p] = shuffleWeight(router.deployment(members[p]), mode);
                    total += w[p];
                    passing++;
                }
            }
            if (passing == 0) return -1;
            if (total == 0) {
                int k = random.nextInt(passing);
                for (int p = 0; p < members.length; p++) {
                    if (router.passes(this, members[p], tokens, now, minute) && k-- == 0) return members[p];
                }
                return -1;
            }
            long r = random.nextLong(total);
            int last = -1;
            for (int p = 0; p < members.length; p++) {
                if (w[p] > 0) {
                    last = members[p];
                    if (r < w[p]) return members[p];
                    r -= w[p];
                }
            }
            return last; // state moved during the scan: take the last passing one
        }
        boolean ttft = stream && strategy == RoutingStrategy.LATENCY_BASED_ROUTING;
        long best = Long.MAX_VALUE;
        int bestD = -1;
        for (int d : members) {
            if (!router.passes(this, d, tokens, now, minute)) continue;
            long k = key(d, ttft, minute);
            if (k < best) {
                best = k;
                bestD = d;
            }
        }
        double buffer = router.settings().lowestLatencyBuffer();
        if (bestD < 0 || strategy != RoutingStrategy.LATENCY_BASED_ROUTING || buffer <= 0) return bestD;
        long limit = best + (long) (best * buffer);
        int count = 0;
        for (int d : members) {
            if (router.passes(this, d, tokens, now, minute) && key(d, ttft, minute) <= limit) count++;
        }
        int k = random.nextInt(Math.max(1, count));
        for (int d : members) {
            if (router.passes(this, d, tokens, now, minute) && key(d, ttft, minute) <= limit && k-- == 0) return d;
        }
        return bestD;
    }
}
