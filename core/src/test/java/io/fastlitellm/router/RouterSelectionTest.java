package io.fastlitellm.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RouterSelectionTest {
    private final TestClock clock = new TestClock();

    private Router router(List<Deployment> ds, RouterSettings.Builder s) {
        return Router.builder(ds, s.build()).nanoTime(clock).random(new SplittableRandom(42)).build();
    }

    private static Deployment.Builder dep(String id, String group) {
        return Deployment.builder().id(id).modelName(group).model("openai/" + group);
    }

    private Map<String, Integer> shares(Router r, String model, RouteRequest req, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) counts.merge(r.route(model, req).id(), 1, Integer::sum);
        return counts;
    }

    private static void assertShare(Map<String, Integer> counts, String id, double expected, int n) {
        double sigma = Math.sqrt(expected * (1 - expected) / n);
        assertThat(counts.getOrDefault(id, 0) / (double) n).as(id).isCloseTo(expected, org.assertj.core.data.Offset.offset(5 * sigma));
    }

    @Test
    void simpleShuffleFollowsWeightsWithinStatisticalBounds() {
        Router r = router(List.of(dep("a", "g").weight(1).build(), dep("b", "g").weight(2).build(), dep("c", "g").weight(7).build()),
                RouterSettings.builder());
        int n = 100_000;
        Map<String, Integer> c = shares(r, "g", RouteRequest.EMPTY, n);
        assertShare(c, "a", 0.1, n);
        assertShare(c, "b", 0.2, n);
        assertShare(c, "c", 0.7, n);
    }

    @Test
    void simpleShuffleUsesRpmThenTpmThenUniformWhenTheFirstDeploymentHasNoWeight() {
        Router byRpm = router(List.of(dep("a", "g").rpm(100).build(), dep("b", "g").rpm(300).build()), RouterSettings.builder());
        int n = 40_000;
        assertShare(shares(byRpm, "g", RouteRequest.EMPTY, n), "b", 0.75, n);
        Router byTpm = router(List.of(dep("a", "g").tpm(9_000).build(), dep("b", "g").tpm(1_000).build()), RouterSettings.builder());
        assertShare(shares(byTpm, "g", RouteRequest.EMPTY, n), "a", 0.9, n);
        Router uniform = router(List.of(dep("a", "g").build(), dep("b", "g").build(), dep("c", "g").build(), dep("d", "g").build()),
                RouterSettings.builder());
        Map<String, Integer> c = shares(uniform, "g", RouteRequest.EMPTY, n);
        for (String id : List.of("a", "b", "c", "d")) assertShare(c, id, 0.25, n);
    }

    @Test
    void simpleShuffleTakesItsModeFromTheFirstHealthyDeployment() {
        // Regression: the mode came from the first configured deployment even while it was cooling.
        // LiteLLM's simple_shuffle reads healthy_deployments[0]: with "a" out, "b" has no weight, so
        // the draw is by rpm (b 300 : c 100), not uniform over the weight-less rest.
        Router r = router(List.of(dep("a", "g").weight(1).rpm(100).build(), dep("b", "g").rpm(300).build(),
                dep("c", "g").rpm(100).build()), RouterSettings.builder());
        int n = 40_000;
        assertThat(shares(r, "g", RouteRequest.EMPTY, 2_000)).containsOnlyKeys("a"); // weight mode: a missing weight is 0
        assertThat(r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT)).isTrue();
        Map<String, Integer> c = shares(r, "g", RouteRequest.EMPTY, n);
        assertThat(c).doesNotContainKey("a");
        assertShare(c, "b", 0.75, n);
        clock.advance(Duration.ofSeconds(6));
        assertThat(shares(r, "g", RouteRequest.EMPTY, 2_000)).containsOnlyKeys("a");
    }

    @Test
    void simpleShuffleNeverPicksACooledDeploymentAndRenormalisesTheOthers() {
        List<Deployment> ds = List.of(dep("a", "g").weight(1).build(), dep("b", "g").weight(1).build(), dep("c", "g").weight(2).build());
        Router r = router(ds, RouterSettings.builder());
        assertThat(r.recordFailure(r.deployment("c"), 429, 0, ErrorClass.RATE_LIMIT)).isTrue();
        int n = 20_000;
        Map<String, Integer> c = shares(r, "g", RouteRequest.EMPTY, n);
        assertThat(c).doesNotContainKey("c");
        assertShare(c, "a", 0.5, n);
    }

    @Test
    void simpleShuffleKeepsExactSharesWhenMostDeploymentsAreCooling() {
        List<Deployment> ds = new ArrayList<>();
        for (int i = 1; i <= 10; i++) ds.add(dep("w" + i, "g").weight(i).build());
        Router r = router(ds, RouterSettings.builder());
        for (int i = 1; i <= 10; i++) {
            if (i != 3 && i != 9) assertThat(r.recordFailure(r.deployment("w" + i), 429, 0, ErrorClass.RATE_LIMIT)).isTrue();
        }
        int n = 40_000;
        Map<String, Integer> c = shares(r, "g", RouteRequest.EMPTY, n);
        assertThat(c.keySet()).containsExactlyInAnyOrder("w3", "w9");
        assertShare(c, "w3", 0.25, n);
    }

    @Test
    void leastBusyPicksFewestInFlight() {
        Router r = router(List.of(dep("a", "g").build(), dep("b", "g").build(), dep("c", "g").build()),
                RouterSettings.builder().routingStrategy(RoutingStrategy.LEAST_BUSY));
        Deployment a = r.deployment("a"), b = r.deployment("b"), c = r.deployment("c");
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("a"); // tie: the first, as LiteLLM's scan
        r.recordStart(a);
        r.recordStart(a);
        r.recordStart(b);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("c");
        r.recordStart(c);
        r.recordStart(c);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
        r.recordSuccess(a, 1_000_000, 0, 10, 10);
        r.recordFailure(a, 400, 0, ErrorClass.BAD_REQUEST);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("a");
    }

    @Test
    void usageBasedPicksLowestTpmUsedAndSkipsDeploymentsOverTheirLimits() {
        for (RoutingStrategy s : List.of(RoutingStrategy.USAGE_BASED_ROUTING, RoutingStrategy.USAGE_BASED_ROUTING_V2)) {
            Router r = router(List.of(dep("a", "g").tpm(1_000).rpm(100).build(), dep("b", "g").tpm(1_000).rpm(2).build(),
                    dep("c", "g").tpm(10_000).build()), RouterSettings.builder().routingStrategy(s));
            Deployment a = r.deployment("a"), b = r.deployment("b"), c = r.deployment("c");
            use(r, a, 500);
            use(r, c, 300);
            assertThat(r.route("g", RouteRequest.EMPTY).id()).as(s.configName()).isEqualTo("b");
            use(r, b, 10);
            use(r, b, 10);
            // b has used its 2 requests this minute: out, although its tpm is lowest
            assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("c");
            // a 900-token prompt fits c (300 + 900 <= 10000) and not a (500 + 900 > 1000)
            use(r, c, 500);
            assertThat(r.route("g", RouteRequest.of(900)).id()).isEqualTo("c");
            assertThat(r.route("g", RouteRequest.of(100)).id()).isEqualTo("a");
            // a new minute resets usage: b is back and has the lowest (zero) usage again first in order
            clock.advance(Duration.ofSeconds(61));
            assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("a");
        }
    }

    private static void use(Router r, Deployment d, long tokens) {
        r.recordStart(d);
        r.recordSuccess(d, 1_000_000, 0, tokens, 0);
    }

    @Test
    void usageBasedAnswers429WhenEveryDeploymentIsAtItsLimit() {
        Router r = router(List.of(dep("a", "g").rpm(1).build(), dep("b", "g").rpm(1).build()),
                RouterSettings.builder().routingStrategy(RoutingStrategy.USAGE_BASED_ROUTING_V2));
        use(r, r.deployment("a"), 1);
        use(r, r.deployment("b"), 1);
        assertThatThrownBy(() -> r.route("g", RouteRequest.EMPTY)).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.getMessage()).contains("'g'").contains("2 at their rpm/tpm limit");
            assertThat(e.retryAfterMillis()).isBetween(1L, 60_000L);
        });
    }

    @Test
    void latencyBasedPicksFastestPerOutputTokenTriesUnmeasuredFirstAndUsesTtftWhenStreaming() {
        Router r = router(List.of(dep("a", "g").build(), dep("b", "g").build(), dep("c", "g").build()),
                RouterSettings.builder().routingStrategy(RoutingStrategy.LATENCY_BASED_ROUTING));
        Deployment a = r.deployment("a"), b = r.deployment("b"), c = r.deployment("c");
        report(r, a, 2_000_000_000L, 400_000_000L, 100); // 20 ms/token, ttft 4 ms/token
        report(r, b, 1_000_000_000L, 900_000_000L, 100); // 10 ms/token, ttft 9 ms/token
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("c"); // never measured: tried first
        report(r, c, 3_000_000_000L, 1_000_000_000L, 100);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
        assertThat(r.route("g", new RouteRequest(0, List.of(), true)).id()).isEqualTo("a");
        // a timeout adds a 1000 s penalty sample: b averages (10 ms + 1000 s) / 2, now the slowest
        r.recordStart(b);
        r.recordFailure(b, 408, 0, ErrorClass.TIMEOUT);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("a");
    }

    private static void report(Router r, Deployment d, long latency, long ttft, long completion) {
        r.recordStart(d);
        r.recordSuccess(d, latency, ttft, 10, completion);
    }

    @Test
    void latencyBufferSpreadsOverDeploymentsWithinTheBufferOnly() {
        Router r = router(List.of(dep("a", "g").build(), dep("b", "g").build(), dep("c", "g").build()),
                RouterSettings.builder().routingStrategy(RoutingStrategy.LATENCY_BASED_ROUTING).lowestLatencyBuffer(0.5));
        report(r, r.deployment("a"), 1_000_000_000L, 0, 100); // 10 ms/token
        report(r, r.deployment("b"), 1_400_000_000L, 0, 100); // 14: within 10 x 1.5
        report(r, r.deployment("c"), 1_600_000_000L, 0, 100); // 16: outside
        int n = 20_000;
        Map<String, Integer> counts = shares(r, "g", RouteRequest.EMPTY, n);
        assertThat(counts).doesNotContainKey("c");
        assertShare(counts, "a", 0.5, n);
    }

    @Test
    void costBasedPicksCheapestFromParamsOrTheBuiltInTableAndSkipsDeploymentsOverLimits() {
        Router r = router(List.of(
                Deployment.builder().id("4o").modelName("g").model("openai/gpt-4o").build(),
                Deployment.builder().id("mini").modelName("g").model("azure/gpt-4o-mini-2024-07-18").rpm(1).build(),
                Deployment.builder().id("own").modelName("g").model("custom/llm").inputCostPerToken(1e-6).outputCostPerToken(1e-6).build()),
                RouterSettings.builder().routingStrategy(RoutingStrategy.COST_BASED_ROUTING));
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("mini");
        r.recordStart(r.deployment("mini"));
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("own"); // 2e-6 < gpt-4o's 1.25e-5
    }

    @Test
    void lowestOrderIsUsedUntilItIsUnavailable() {
        Router r = router(List.of(dep("backup", "g").order(2).build(), dep("main1", "g").order(1).build(),
                dep("main2", "g").order(1).build(), dep("none", "g").build()), RouterSettings.builder());
        for (int i = 0; i < 100; i++) assertThat(r.route("g", RouteRequest.EMPTY).id()).startsWith("main");
        r.recordFailure(r.deployment("main1"), 429, 0, ErrorClass.RATE_LIMIT);
        r.recordFailure(r.deployment("main2"), 429, 0, ErrorClass.RATE_LIMIT);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("backup");
        r.recordFailure(r.deployment("backup"), 429, 0, ErrorClass.RATE_LIMIT);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("none");
    }

    @Test
    void resolvesIdsGroupsAliasesWildcardsAndTheCatchAll() {
        Router r = router(List.of(dep("x1", "gpt-4o").build(), dep("x2", "gpt-4o").build(),
                Deployment.builder().id("oai").modelName("openai/*").model("openai/*").build(),
                Deployment.builder().id("oai-4").modelName("openai/gpt-4*").model("openai/gpt-4*").build(),
                Deployment.builder().id("any").modelName("*").model("openai/*").build()),
                RouterSettings.builder().modelGroupAlias("gpt-4", "gpt-4o"));
        assertThat(r.route("x2", RouteRequest.EMPTY).id()).isEqualTo("x2");
        assertThat(r.route("gpt-4", RouteRequest.EMPTY).modelName()).isEqualTo("gpt-4o");
        assertThat(r.route("openai/gpt-4.1", RouteRequest.EMPTY).id()).isEqualTo("oai-4"); // the more specific pattern
        assertThat(r.route("openai/o3", RouteRequest.EMPTY).id()).isEqualTo("oai");
        assertThat(r.route("mistral/large", RouteRequest.EMPTY).id()).isEqualTo("any");
        Router noStar = router(List.of(dep("x1", "gpt-4o").build()), RouterSettings.builder());
        assertThatThrownBy(() -> noStar.route("claude", RouteRequest.EMPTY)).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.getMessage()).contains("model=claude").contains("gpt-4o");
        });
    }

    @Test
    void tagFilteringKeepsDeploymentsWithARequestTagAndSendsUntaggedRequestsToDefault() {
        Router r = router(List.of(dep("free", "g").tags(List.of("free", "default")).build(), dep("paid", "g").tags(List.of("paid")).build(),
                dep("both", "g").tags(List.of("paid", "teamA")).build()), RouterSettings.builder().enableTagFiltering(true));
        for (int i = 0; i < 50; i++) {
            assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("free");
            assertThat(r.route("g", new RouteRequest(0, List.of("teamA"), false)).id()).isEqualTo("both");
            assertThat(r.route("g", new RouteRequest(0, List.of("paid", "nothing"), false)).id()).isIn("paid", "both");
        }
        assertThatThrownBy(() -> r.route("g", new RouteRequest(0, List.of("enterprise"), false)))
                .isInstanceOfSatisfying(RouterException.class, e -> assertThat(e.getMessage()).contains("[enterprise]").contains("'g'"));
        // cooldown seen through a tag pool too
        r.recordFailure(r.deployment("both"), 429, 0, ErrorClass.RATE_LIMIT);
        assertThat(r.route("g", new RouteRequest(0, List.of("paid"), false)).id()).isEqualTo("paid");
    }

    @Test
    void contextWindowCheckSkipsSmallDeploymentsAndFailsWhenNoneFits() {
        Router r = router(List.of(dep("small", "g").maxInputTokens(1_000).weight(100).build(), dep("big", "g").maxInputTokens(100_000).weight(1).build()),
                RouterSettings.builder().enablePreCallChecks(true));
        for (int i = 0; i < 50; i++) assertThat(r.route("g", RouteRequest.of(5_000)).id()).isEqualTo("big");
        assertThatThrownBy(() -> r.route("g", RouteRequest.of(200_000))).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.errorClass()).isEqualTo(ErrorClass.CONTEXT_WINDOW_EXCEEDED);
            assertThat(e.getMessage()).contains("200000 tokens").contains("100000");
        });
        Router catalog = router(List.of(Deployment.builder().id("g4").modelName("g").model("openai/gpt-4").build()),
                RouterSettings.builder().enablePreCallChecks(true));
        assertThatThrownBy(() -> catalog.route("g", RouteRequest.of(9_000))).isInstanceOf(RouterException.class)
                .hasMessageContaining("8192");
        // as in LiteLLM, the context window is a pre-call check: off by default, the upstream then says so
        Router unchecked = router(List.of(dep("small", "g").maxInputTokens(1_000).build()), RouterSettings.builder());
        assertThat(unchecked.route("g", RouteRequest.of(5_000)).id()).isEqualTo("small");
    }

    @Test
    void preCallChecksAskTheHeadroomCheck() {
        List<String> asked = new ArrayList<>();
        Router r = Router.builder(List.of(dep("a", "g").build(), dep("b", "g").build()),
                        RouterSettings.builder().enablePreCallChecks(true).routingStrategy(RoutingStrategy.LEAST_BUSY).build())
                .nanoTime(clock).random(new SplittableRandom(1))
                .headroomCheck((d, tokens) -> {
                    asked.add(d.id() + ":" + tokens);
                    return !d.id().equals("a");
                }).build();
        assertThat(r.route("g", RouteRequest.of(77)).id()).isEqualTo("b");
        assertThat(asked).contains("a:77", "b:77");
    }

    @Test
    void preCallChecksUseTheRoutersOwnRpmCountersByDefault() {
        Router r = router(List.of(dep("a", "g").rpm(1).build(), dep("b", "g").rpm(1000).build()),
                RouterSettings.builder().enablePreCallChecks(true).routingStrategy(RoutingStrategy.LEAST_BUSY));
        use(r, r.deployment("a"), 1);
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
    }

    @Test
    void badConfigurationIsRejectedWithThePathAndWhatIsExpected() {
        assertThatThrownBy(() -> Router.builder(List.of(dep("a", "g").build(), dep("b", "g").build(), dep("c", "g").build(),
                dep("d", "g").weight(-1).build()), RouterSettings.defaults()).build())
                .hasMessageContaining("deployments[3].weight: -1 (expected: >= 0)");
        assertThatThrownBy(() -> Router.builder(List.of(dep("a", "g").rpm(-3).build(), dep("a", "h").build()), RouterSettings.defaults()).build())
                .hasMessageContaining("deployments[0].rpm: -3 (expected: >= 0)")
                .hasMessageContaining("deployments[1].id: \"a\" (expected: unique; deployments[0] has it too)");
        assertThatThrownBy(() -> RouterSettings.builder().numRetries(-1).build()).hasMessageContaining("num_retries: -1 (expected: >= 0)");
        assertThatThrownBy(() -> RoutingStrategy.fromConfigName("round-robin")).hasMessageContaining("routing_strategy: round-robin")
                .hasMessageContaining("least-busy");
        assertThatThrownBy(() -> RetryPolicy.fromConfig(Map.of("RateLimitRetries", 2))).hasMessageContaining("retry_policy.RateLimitRetries: unknown field");
        assertThat(RoutingStrategy.fromConfigName("usage-based-routing-v2")).isEqualTo(RoutingStrategy.USAGE_BASED_ROUTING_V2);
    }

    @Test
    void missingIdsAreGeneratedFromGroupAndIndex() {
        Router r = router(List.of(Deployment.builder().modelName("g").model("mock/x").build()), RouterSettings.builder());
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("g-0");
    }
}
