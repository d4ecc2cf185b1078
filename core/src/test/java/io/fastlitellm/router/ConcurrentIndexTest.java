package io.fastlitellm.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Indexes must converge to the store whatever the interleaving of concurrent reports. */
class ConcurrentIndexTest {

    @Test
    void afterConcurrentReportsEveryIndexAgreesWithAnExactScan() throws Exception {
        for (RoutingStrategy s : List.of(RoutingStrategy.LEAST_BUSY, RoutingStrategy.USAGE_BASED_ROUTING_V2, RoutingStrategy.LATENCY_BASED_ROUTING,
                RoutingStrategy.COST_BASED_ROUTING)) {
            AtomicLong now = new AtomicLong();
            List<Deployment> ds = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                // limits on half of them, so that reports move deployments in and out of the indexes
                Deployment.Builder b = Deployment.builder().id("d" + i).modelName("g").model("mock/x").inputCostPerToken(i % 7 * 1e-6);
                if (i % 2 == 0) b.rpm(150).tpm(20_000);
                ds.add(b.build());
            }
            Router r = Router.builder(ds, RouterSettings.builder().routingStrategy(s).cooldownTime(Duration.ofHours(1)).build())
                    .nanoTime(now::get).build();
            int threads = 2;
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                Thread th = new Thread(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 20_000; i++) {
                        Deployment d = r.route("g", RouteRequest.EMPTY);
                        r.recordStart(d);
                        int k = rnd.nextInt(10);
                        if (k == 0) r.recordFailure(d, 429, 0, ErrorClass.RATE_LIMIT);
                        else if (k < 6) r.recordSuccess(d, 1_000 + rnd.nextInt(1_000_000), 0, rnd.nextInt(100), 1 + rnd.nextInt(50));
                        // else: left in flight
                        if (i % 1000 == 0) {
                            // keep some deployments out of cooldown so routing never runs dry
                            now.addAndGet(Duration.ofHours(2).toNanos());
                        }
                    }
                });
                ts.add(th);
                th.start();
            }
            start.countDown();
            for (Thread th : ts) th.join();
            Pool pool = ((Router.Group) r.resolve("g")).all;
            long t = now.get();
            long minute = Router.minuteOf(t);
            r.cleanup(t);
            for (Tier tier : pool.tiers) {
                int indexed = tier.pick(0, false, t, minute, new SplittableRandom(1));
                int scanned = tier.scan(0, false, t, minute, new SplittableRandom(1));
                assertThat(indexed).as(s.configName()).isEqualTo(scanned);
            }
        }
    }
}
