package io.fastlitellm.router;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.random.RandomGenerator;

/**
 * A weighted-choice tree for simple-shuffle: each node holds the sum of its leaves' weights, so a
 * weighted random position costs one descent (log2 n reads) and taking a deployment out (cooldown:
 * weight 0) or back costs one update of log2 n nodes, with no rebuild.
 *
 * <p>Invariants: writers hold the owning tier's lock; readers take no lock. A reader racing an update
 * may follow a stale sum and land on a position whose weight just became 0 or that lies past the
 * last deployment; {@link #sample} then returns such a position or -1, and callers re-check it.
 */
final class SumTree {
    private static final VarHandle NODES = MethodHandles.arrayElementVarHandle(long[].class);

    private final int leaves;
    private final int n;
    private final long[] nodes;

    SumTree(int n) {
        int size = 1;
        while (size < n) size <<= 1;
        this.leaves = size;
        this.n = n;
        this.nodes = new long[2 * size];
    }

    long total() {
        return (long) NODES.getAcquire(nodes, 1);
    }

    long leaf(int pos) {
        return (long) NODES.getAcquire(nodes, leaves + pos);
    }

    /** Caller holds the tier lock. */
    void set(int pos, long weight) {
        int i = leaves + pos;
        NODES.setRelease(nodes, i, weight);
        for (i >>>= 1; i >= 1; i >>>= 1) {
            NODES.setRelease(nodes, i, nodes[2 * i] + nodes[2 * i + 1]);
        }
    }

    /** A position drawn with probability weight / total, or -1 when the total is 0 (or a race was lost). */
    int sample(RandomGenerator random) {
        long total = total();
        if (total <= 0) return -1;
        long r = random.nextLong(total);
        int i = 1;
        while (i < leaves) {
            long left = (long) NODES.getAcquire(nodes, 2 * i);
            if (r < left) {
                i = 2 * i;
            } else {
                r -= left;
                i = 2 * i + 1;
            }
        }
        int pos = i - leaves;
        return pos < n ? pos : -1;
    }
}
