package io.fastlitellm.bench.router;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.RoutingStrategy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The baseline: LiteLLM's selection algorithm as written (per request, build the list of healthy
 * deployments by filtering out the cooldown set, then let the strategy scan it), ported to Java with
 * plain arrays, so it carries none of Python's overhead. It shows what the per-request O(n) scan
 * costs on the JVM beside the router's indexes. Single state, no reports: selection only.
 */
final class ScanRouter {
    private final RoutingStrategy strategy;
    private final List<Deployment> all;
    private final Set<String> cooldown = new HashSet<>();
    private final long[] inFlight;
    private final long[] tpmUsed;
    private final long[] latency;
    private final double[] cost;
    private final double[] weight;

    ScanRouter(int n, RoutingStrategy strategy, double cooldownFraction) {
        this.strategy = strategy;
        this.all = RouterFixture.deployments(n);
        inFlight = new long[n];
        tpmUsed = new long[n];
        latency = new long[n];
        cost = new double[n];
        weight = new double[n];
        SplittableRandom rnd = new SplittableRandom(2026);
        for (int i = 0; i < n; i++) {
            Deployment d = all.get(i);
            inFlight[i] = rnd.nextInt(4);
            tpmUsed[i] = 100 + rnd.nextInt(100_000);
            latency[i] = 1_000_000 + rnd.nextInt(5_000_000);
            cost[i] = d.inputCostPerToken() + d.outputCostPerToken();
            weight[i] = d.weight();
        }
        rnd.ints(0, n).distinct().limit(Math.round(n * cooldownFraction)).forEach(i -> cooldown.add(all.get(i).id()));
    }

    Deployment route(long inputTokens) {
        List<Integer> healthy = new ArrayList<>(all.size());
        for (int i = 0; i < all.size(); i++) {
            if (!cooldown.contains(all.get(i).id())) healthy.add(i);
        }
        if (healthy.isEmpty()) throw new IllegalStateException("no deployment");
        int best = -1;
        switch (strategy) {
            case SIMPLE_SHUFFLE -> {
                double total = 0;
                for (int i : healthy) total += weight[i];
                double r = ThreadLocalRandom.current().nextDouble(total);
                for (int i : healthy) {
                    best = i;
                    if ((r -= weight[i]) < 0) break;
                }
            }
            case LEAST_BUSY -> best = argMin(healthy, inFlight, inputTokens, false);
            case USAGE_BASED_ROUTING, USAGE_BASED_ROUTING_V2 -> best = argMin(healthy, tpmUsed, inputTokens, true);
            case LATENCY_BASED_ROUTING -> best = argMin(healthy, latency, inputTokens, true);
            case COST_BASED_ROUTING -> {
                double c = Double.MAX_VALUE;
                for (int i : healthy) {
                    if (withinLimits(i, inputTokens) && cost[i] < c) {
                        c = cost[i];
                        best = i;
                    }
                }
            }
        }
        return all.get(best);
    }

    private int argMin(List<Integer> healthy, long[] key, long inputTokens, boolean limits) {
        long min = Long.MAX_VALUE;
        int best = -1;
        for (int i : healthy) {
            if (limits && !withinLimits(i, inputTokens)) continue;
            if (key[i] < min) {
                min = key[i];
                best = i;
            }
        }
        return best;
    }

    private boolean withinLimits(int i, long inputTokens) {
        Deployment d = all.get(i);
        return tpmUsed[i] + inputTokens <= d.tpm() && inFlight[i] + 1 <= d.rpm();
    }
}
