package io.fastlitellm.router;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.random.RandomGenerator;

/**
 * A tournament tree over one tier's deployments whose root is the (key, position) minimum: the
 * least-busy, lowest-usage, fastest or cheapest deployment in one read. Keys and positions are packed
 * into one long ({@code key << 20 | position}), so the lowest position wins ties, as LiteLLM's
 * first-minimum scans do.
 *
 * <p>Invariants: writers hold the owning tier's lock, so the tree is consistent after every
 * {@link #set}; readers take no lock and read nodes with acquire semantics, so a reader sees either
 * the old or the new value of each node, possibly a mix across nodes while an update is in flight:
 * callers treat what they read as a candidate and re-check it.
 */
final class MinTree {
    static final long INF = Long.MAX_VALUE;
    static final int POS_BITS = 20;
    static final int MAX_SIZE = 1 << POS_BITS;
    static final long MAX_KEY = (1L << (63 - POS_BITS)) - 2;
    private static final VarHandle NODES = MethodHandles.arrayElementVarHandle(long[].class);

    private final int leaves;
    private final long[] nodes;

    MinTree(int n) {
        int size = 1;
        while (size < n) size <<= 1;
        leaves = size;
        nodes = new long[2 * size];
        java.util.Arrays.fill(nodes, INF);
    }

    static int position(long packed) {
        return (int) (packed & (MAX_SIZE - 1));
    }

    static long key(long packed) {
        return packed >>> POS_BITS;
    }

    long leaf(int pos) {
        return (long) NODES.getAcquire(nodes, leaves + pos);
    }

    long root() {
        return (long) NODES.getAcquire(nodes, 1);
    }

    /** Caller holds the tier lock. Returns whether the leaf was INF before. */
    boolean set(int pos, long key) {
        long v = key == INF ? INF : (Math.min(Math.max(key, 0), MAX_KEY) << POS_BITS) | pos;
        int i = leaves + pos;
        boolean wasInf = nodes[i] == INF;
        NODES.setRelease(nodes, i, v);
        for (i >>>= 1; i >= 1; i >>>= 1) {
            long m = Math.min(nodes[2 * i], nodes[2 * i + 1]);
            if (nodes[i] == m) break;
            NODES.setRelease(nodes, i, m);
        }
        return wasInf;
    }

    /**
     * A position whose key is at most {@code maxKey}, chosen by a random descent among subtrees whose
     * minimum qualifies: every qualifying position can be chosen, though not with exactly equal
     * probability (the caller samples uniformly first and uses this as a bounded fall-back).
     */
    int descendWithin(long maxKey, RandomGenerator random) {
        long bound = maxKey >= MAX_KEY ? INF : ((maxKey + 1) << POS_BITS);
        int i = 1;
        while (i < leaves) {
            boolean left = (long) NODES.getAcquire(nodes, 2 * i) < bound;
            boolean right = (long) NODES.getAcquire(nodes, 2 * i + 1) < bound;
            if (left && right) i = 2 * i + (random.nextBoolean() ? 1 : 0);
            else if (left) i = 2 * i;
            else if (right) i = 2 * i + 1;
            else return position(root());
        }
        return i - leaves;
    }
}
