package io.fastlitellm.bench.router;

import io.fastlitellm.router.Deployment;
import io.fastlitellm.router.Router;
import io.fastlitellm.router.RoutingStrategy;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Selection time of the router (indexes) beside a per-request scan ({@link ScanRouter}, LiteLLM's
 * algorithm in Java), per strategy, at 1,000 and 10,000 deployments in one group with 10 % in
 * cooldown; plus a routed call (selection + start and success reports) and building a router.
 *
 * <p>Run: {@code java -jar bench/target/fast-litellm.jar} is the CLI; JMH runs from the same jar:
 * <pre>
 * java -cp bench/target/fast-litellm.jar org.openjdk.jmh.Main 'io.fastlitellm.bench.router.RouterBenchmark' \
 *     -wi 2 -i 3 -f 1 -w 1s -r 1s
 * </pre>
 * Two threads: add {@code -t 2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouterBenchmark {

    @Param({"1000", "10000"})
    public int deployments;

    @Param({"simple-shuffle", "least-busy", "usage-based-routing-v2", "latency-based-routing", "cost-based-routing"})
    public String strategy;

    private Router router;
    private ScanRouter scan;
    private List<Deployment> list;
    private RoutingStrategy parsed;

    @Setup
    public void setUp() {
        parsed = RoutingStrategy.fromConfigName(strategy);
        router = RouterFixture.prepared(deployments, parsed, 0.1);
        scan = new ScanRouter(deployments, parsed, 0.1);
        list = RouterFixture.deployments(deployments);
    }

    @Benchmark
    public Deployment select() {
        return router.route(RouterFixture.GROUP, RouterFixture.REQUEST);
    }

    @Benchmark
    public Deployment selectScanBaseline() {
        return scan.route(RouterFixture.REQUEST.inputTokens());
    }

    @Benchmark
    public Deployment routedCall() {
        Deployment d = router.route(RouterFixture.GROUP, RouterFixture.REQUEST);
        router.recordStart(d);
        router.recordSuccess(d, 300_000_000L, 0, 200, 50);
        return d;
    }

    @Benchmark
    public Router build() {
        return Router.builder(list, RouterFixture.settings(parsed)).build();
    }
}
