package io.fastlitellm.router;

import java.util.random.RandomGenerator;

/**
 * Vose's alias table over fixed weights: a weighted random position in O(1) (one uniform index,
 * one coin). Immutable after construction, so it is read without synchronisation. simple-shuffle
 * draws from it and rejects deployments that cannot take the request (cooldown, context window,
 * headroom), which leaves exactly the weighted distribution over the others; the tier's
 * {@link SumTree} takes over after a few rejections, so many deployments in cooldown cost
 * O(log n), never a scan.
 */
final class AliasTable {
    private final double[] probability;
    private final int[] alias;

    /** Null when the weights sum to 0 (no weighted choice possible). */
    static AliasTable of(long[] weights) {
        double total = 0;
        for (long w : weights) total += w;
        return total > 0 ? new AliasTable(weights, total) : null;
    }

    private AliasTable(long[] weights, double total) {
        int n = weights.length;
        probability = new double[n];
        alias = new int[n];
        double[] scaled = new double[n];
        int[] small = new int[n];
        int[] large = new int[n];
        int s = 0, l = 0;
        for (int i = 0; i < n; i++) {
            scaled[i] = weights[i] * n / total;
            if (scaled[i] < 1) small[s++] = i;
            else large[l++] = i;
        }
        while (s > 0 && l > 0) {
            int less = small[--s];
            int more = large[--l];
            probability[less] = scaled[less];
            alias[less] = more;
            scaled[more] = scaled[more] + scaled[less] - 1;
            if (scaled[more] < 1) small[s++] = more;
            else large[l++] = more;
        }
        while (l > 0) probability[large[--l]] = 1;
        while (s > 0) probability[small[--s]] = 1; // rounding left-overs
    }

    int sample(RandomGenerator random) {
        int i = random.nextInt(probability.length);
        return random.nextDouble() < probability[i] ? i : alias[i];
    }
}
