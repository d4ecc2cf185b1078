package io.fastlitellm.bench.ratelimit;

import java.util.SplittableRandom;

/** Sequences of key indexes for the benchmarks: uniform, or Zipf-distributed as real key traffic is. */
public final class KeyOrder {

    private KeyOrder() {
    }

    /** {@code length} indexes in {@code [0, keys)}, each equally likely. */
    public static int[] uniform(int keys, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = new int[length];
        for (int i = 0; i < length; i++) {
            order[i] = random.nextInt(keys);
        }
        return order;
    }

    /**
     * {@code length} indexes in {@code [0, keys)} where index {@code r} has probability proportional
     * to {@code 1 / (r + 1)^exponent} (YCSB's 0.99 makes the hottest 1 % of a million keys take about
     * half the checks), shuffled so that hot keys do not sit next to each other in the table.
     */
    public static int[] zipf(int keys, int length, double exponent, long seed) {
        double[] cdf = new double[keys];
        double sum = 0;
        for (int r = 0; r < keys; r++) {
            sum += 1.0 / Math.pow(r + 1, exponent);
            cdf[r] = sum;
        }
        int[] rankToKey = uniformPermutation(keys, seed ^ 0x5DEECE66DL);
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = new int[length];
        for (int i = 0; i < length; i++) {
            double u = random.nextDouble() * sum;
            int lo = 0;
            int hi = keys - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] < u) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            order[i] = rankToKey[lo];
        }
        return order;
    }

    private static int[] uniformPermutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
