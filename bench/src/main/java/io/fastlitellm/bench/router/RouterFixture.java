package io.fastlitellm.bench.router;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.ErrorClass;
import io.fastlitellm.router.RouteRequest;
import io.fastlitellm.router.Router;
import io.fastlitellm.router.RouterSettings;
import io.fastlitellm.router.RoutingStrategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The benchmark's router: N deployments in one model group, with rpm/tpm limits, weights, prices
 * and latencies that differ, some requests in flight, and a fraction of the deployments in cooldown
 * (cooled by a reported 429, cooldown_time 1 h so they stay out during the run). Seeded: the same
 * state on every run.
 */
final class RouterFixture {
    static final String GROUP = "bench-group";
    static final RouteRequest REQUEST = RouteRequest.of(200);

    private RouterFixture() {
    }

    static List<Deployment> deployments(int n) {
        List<Deployment> ds = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ds.add(Deployment.builder()
                    .id("dep-" + i)
                    .modelName(GROUP)
                    .model("openai/gpt-4o")
                    .apiBase("https://region-" + (i % 50) + ".example.com/v1")
                    .weight(1 + i % 5)
                    .rpm(1_000_000_000L)
                    .tpm(1_000_000_000_000L)
                    .inputCostPerToken((1 + i % 97) * 1e-7)
                    .outputCostPerToken((1 + i % 89) * 4e-7)
                    .build());
        }
        return ds;
    }

    static RouterSettings settings(RoutingStrategy strategy) {
        return RouterSettings.builder().routingStrategy(strategy).cooldownTime(Duration.ofHours(1)).build();
    }

    /** Builds the router and brings it to the benchmark state. */
    static Router prepared(int n, RoutingStrategy strategy, double cooldownFraction) {
        Router r = Router.builder(deployments(n), settings(strategy)).build();
        SplittableRandom rnd = new SplittableRandom(2026);
        for (Deployment d : r.deployments()) {
            int calls = 1 + rnd.nextInt(3);
            for (int c = 0; c < calls; c++) {
                r.recordStart(d);
                r.recordSuccess(d, 200_000_000L + rnd.nextInt(800_000_000), 50_000_000L + rnd.nextInt(100_000_000), 100 + rnd.nextInt(900), 1 + rnd.nextInt(200));
            }
            int inFlight = rnd.nextInt(4);
            for (int c = 0; c < inFlight; c++) r.recordStart(d);
        }
        int cooled = 0;
        List<Deployment> all = r.deployments();
        int target = (int) Math.round(n * cooldownFraction);
        // cool the first tenth of a seeded shuffle; a 429 in a multi-deployment group always cools
        int[] order = rnd.ints(0, n).distinct().limit(target).toArray();
        for (int i : order) {
            Deployment d = all.get(i);
            r.recordStart(d);
            if (r.recordFailure(d, 429, 0, ErrorClass.RATE_LIMIT)) cooled++;
        }
        if (cooled != target) throw new IllegalStateException("cooled " + cooled + " of " + target);
        return r;
    }
}
