package io.fastlitellm.bench.router;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.Router;
import io.fastlitellm.router.RoutingStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/**
 * {@code fast-litellm bench router --deployments N --strategy S [--threads T]}: time per selection
 * of a deployment in one group of N, some in cooldown, for each strategy; also the time to build the
 * router from N deployments and the time of a routed call (selection + start and success reports,
 * which update the strategy's index). No JVM peer exists; LiteLLM's own published figures are
 * quoted in docs/benchmarks/router.md.
 */
@Command(name = "router", mixinStandardHelpOptions = true,
        description = "Router selection time per strategy at N deployments in one group, some in cooldown.")
public final class RouterBenchCommand implements Runnable {

    @Option(names = "--deployments", defaultValue = "1000", description = "Deployments in the group (default: ${DEFAULT-VALUE}).")
    int deployments;

    @Option(names = "--strategy", defaultValue = "all",
            description = "simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing, or all (default).")
    String strategy;

    @Option(names = "--threads", defaultValue = "1", description = "Threads selecting at once (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--cooldown-fraction", defaultValue = "0.1", description = "Share of deployments in cooldown (default: ${DEFAULT-VALUE}).")
    double cooldownFraction;

    @Option(names = "--seconds", defaultValue = "3", description = "Measured seconds per line, after as long a warm-up (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--baseline", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also time the per-request scan baseline; --no-baseline skips it (default: on).")
    boolean baseline;

    @Spec
    CommandSpec spec;

    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    public void run() {
        if (deployments < 2) throw bad("--deployments: " + deployments + " (expected: >= 2)");
        if (threads < 1) throw bad("--threads: " + threads + " (expected: >= 1)");
        if (!(cooldownFraction >= 0 && cooldownFraction < 1)) throw bad("--cooldown-fraction: " + cooldownFraction + " (expected: >= 0 and < 1)");
        if (!(seconds > 0)) throw bad("--seconds: " + seconds + " (expected: > 0)");
        List<RoutingStrategy> strategies;
        try {
            strategies = strategy.equalsIgnoreCase("all") ? List.of(RoutingStrategy.values()) : List.of(RoutingStrategy.fromConfigName(strategy));
        } catch (IllegalArgumentException e) {
            throw bad("--strategy: " + strategy + " (expected: all or one of simple-shuffle, least-busy, usage-based-routing, "
                    + "usage-based-routing-v2, latency-based-routing, cost-based-routing)");
        }
        printBuildTime();
        for (RoutingStrategy s : strategies) {
            Router router = RouterFixture.prepared(deployments, s, cooldownFraction);
            double sel = measure(() -> router.route(RouterFixture.GROUP, RouterFixture.REQUEST));
            System.out.printf(Locale.ROOT, "strategy=%s deployments=%d threads=%d ns_per_selection=%.1f%n", s.configName(), deployments, threads, sel);
            if (baseline) {
            ScanRouter scan = new ScanRouter(deployments, s, cooldownFraction);
            double base = measure(() -> scan.route(RouterFixture.REQUEST.inputTokens()));
            System.out.printf(Locale.ROOT, "strategy=%s deployments=%d threads=%d ns_per_selection=%.1f impl=scan-baseline (per-request scan, LiteLLM's algorithm in Java) ratio=%.1fx%n",
                    s.configName(), deployments, threads, base, base / sel);
            }
            Router fresh = RouterFixture.prepared(deployments, s, cooldownFraction);
            double call = measure(() -> {
                Deployment d = fresh.route(RouterFixture.GROUP, RouterFixture.REQUEST);
                fresh.recordStart(d);
                fresh.recordSuccess(d, 300_000_000L, 0, 200, 50);
                return d;
            });
            System.out.printf(Locale.ROOT, "strategy=%s deployments=%d threads=%d ns_per_routed_call=%.1f (route + recordStart + recordSuccess)%n",
                    s.configName(), deployments, threads, call);
        }
    }

    private void printBuildTime() {
        List<Deployment> ds = RouterFixture.deployments(deployments);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            Router r = Router.builder(ds, RouterFixture.settings(RoutingStrategy.SIMPLE_SHUFFLE)).build();
            long t = System.nanoTime() - t0;
            if (r.deployments().size() != deployments) throw new AssertionError();
            best = Math.min(best, t);
        }
        System.out.printf(Locale.ROOT, "router_build deployments=%d ms=%.1f (best of 5, including validation and indexes)%n", deployments, best / 1e6);
    }

    /** Nanoseconds per operation per thread: each thread's busy time divided by its operations. */
    private double measure(java.util.function.Supplier<Deployment> op) {
        runFor(op, seconds); // warm-up
        return runFor(op, seconds);
    }

    private double runFor(java.util.function.Supplier<Deployment> op, double secs) {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder ops = new LongAdder();
        LongAdder busyNanos = new LongAdder();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long n = 0;
                long sink = 0;
                long t0 = System.nanoTime();
                while (!stop.get()) {
                    for (int i = 0; i < 256; i++) {
                        Deployment d = op.get();
                        sink += d.id().length();
                        n++;
                    }
                }
                busyNanos.add(System.nanoTime() - t0);
                ops.add(n);
                if (sink == 42) System.out.print("");
            }, "bench-router-" + t);
            ts.add(th);
            th.start();
        }
        start.countDown();
        try {
            Thread.sleep((long) (secs * 1000));
            stop.set(true);
            for (Thread th : ts) th.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return busyNanos.sum() / (double) ops.sum();
    }
}
