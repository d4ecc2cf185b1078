package io.fastlitellm.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class RoutingSessionTest {
    private final TestClock clock = new TestClock();

    private Router router(List<Deployment> ds, RouterSettings.Builder s) {
        return Router.builder(ds, s.build()).nanoTime(clock).random(new SplittableRandom(3)).build();
    }

    private static Deployment dep(String id, String group) {
        return Deployment.builder().id(id).modelName(group).model("mock/" + group).build();
    }

    /** What a status code the fake upstream answers for a deployment id; 200 = success. */
    private record Outcome(int status, long retryAfterMillis, ErrorClass errorClass) {
        static final Outcome OK = new Outcome(200, 0, null);
    }

    /** Drives a session the way the gateway does, waiting by moving the clock. Returns the calls and waits made. */
    private List<String> drive(RoutingSession s, Function<Deployment, Outcome> upstream) {
        List<String> log = new ArrayList<>();
        for (int steps = 0; steps < 100; steps++) {
            Decision d = s.next();
            if (d instanceof Decision.Call c) {
                log.add(c.deployment().id() + (c.fallback() ? "(fallback)" : ""));
                Outcome o = upstream.apply(c.deployment());
                if (o.status == 200) {
                    s.onSuccess(1_000_000, 0, 10, 10);
                    return log;
                }
                s.onFailure(o.status, o.retryAfterMillis, o.errorClass != null ? o.errorClass : ErrorClass.fromStatus(o.status));
            } else if (d instanceof Decision.Wait w) {
                log.add("wait " + w.millis());
                clock.advance(Duration.ofMillis(w.millis()));
            } else {
                log.add("fail " + ((Decision.Fail) d).error().status());
                return log;
            }
        }
        throw new AssertionError("session did not end: " + log);
    }

    @Test
    void retriesAnotherDeploymentWithoutWaitingAndReportsTheServedOne() {
        Router r = router(List.of(dep("a", "g"), dep("b", "g")), RouterSettings.builder().routingStrategy(RoutingStrategy.LEAST_BUSY));
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        // a 429 cools "a" (two deployments in the group); "b" is healthy, so no wait
        List<String> log = drive(s, d -> d.id().equals("a") ? new Outcome(429, 30_000, null) : Outcome.OK);
        assertThat(log).containsExactly("a", "b");
        assertThat(s.servedDeployment().id()).isEqualTo("b");
        assertThat(s.attemptedRetries()).isEqualTo(1);
        assertThat(s.attemptedFallbacks()).isZero();
        assertThat(s.modelGroup()).isEqualTo("g");
    }

    @Test
    void waitsForRetryAfterWhenNoOtherDeploymentIsHealthy() {
        Router r = router(List.of(dep("only", "g")), RouterSettings.builder().numRetries(2));
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        int[] calls = {0};
        List<String> log = drive(s, d -> calls[0]++ == 0 ? new Outcome(503, 1_500, null) : Outcome.OK);
        assertThat(log).containsExactly("only", "wait 1500", "only");
        assertThat(s.attemptedRetries()).isEqualTo(1);
    }

    @Test
    void backsOffExponentiallyWithJitterWithoutRetryAfter() {
        Router r = router(List.of(dep("only", "g")), RouterSettings.builder().numRetries(3));
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        List<String> log = drive(s, d -> new Outcome(500, 0, null));
        assertThat(log).hasSize(8);
        long[] waits = log.stream().filter(l -> l.startsWith("wait")).mapToLong(l -> Long.parseLong(l.substring(5))).toArray();
        assertThat(waits).hasSize(3);
        assertThat(waits[0]).isBetween(375L, 500L);
        assertThat(waits[1]).isBetween(750L, 1000L);
        assertThat(waits[2]).isBetween(1500L, 2000L);
        assertThat(log.get(7)).isEqualTo("fail 500");
    }

    @Test
    void retryPolicyOverridesNumRetriesPerErrorClass() {
        Router r = router(List.of(dep("only", "g")), RouterSettings.builder().numRetries(3)
                .retryPolicy(RetryPolicy.fromConfig(Map.of("InternalServerErrorRetries", 0, "TimeoutErrorRetries", 1))));
        assertThat(drive(r.begin("g", RouteRequest.EMPTY), d -> new Outcome(500, 0, null))).containsExactly("only", "fail 500");
        List<String> log = drive(r.begin("g", RouteRequest.EMPTY), d -> new Outcome(408, 0, ErrorClass.TIMEOUT));
        assertThat(log.stream().filter(l -> l.equals("only")).count()).isEqualTo(2);
    }

    @Test
    void badRequestErrorRetriesCoversContentPolicyAndContextWindowUnlessTheirOwnFieldIsSet() {
        // Regression: LiteLLM's ContentPolicyViolationError is a BadRequestError, so
        // BadRequestErrorRetries applies to it when ContentPolicyViolationErrorRetries is unset.
        RetryPolicy onlyBad = RetryPolicy.fromConfig(Map.of("BadRequestErrorRetries", 4));
        assertThat(onlyBad.retriesFor(ErrorClass.CONTENT_POLICY, 1)).isEqualTo(4);
        assertThat(onlyBad.retriesFor(ErrorClass.CONTEXT_WINDOW_EXCEEDED, 1)).isEqualTo(4);
        assertThat(onlyBad.retriesFor(ErrorClass.BAD_REQUEST, 1)).isEqualTo(4);
        assertThat(onlyBad.retriesFor(ErrorClass.SERVER_ERROR, 1)).isEqualTo(1);
        Map<String, Integer> both = new java.util.LinkedHashMap<>();
        both.put("ContentPolicyViolationErrorRetries", 0);
        both.put("BadRequestErrorRetries", 4);
        RetryPolicy specific = RetryPolicy.fromConfig(both);
        assertThat(specific.retriesFor(ErrorClass.CONTENT_POLICY, 1)).isZero();
        assertThat(specific.retriesFor(ErrorClass.CONTEXT_WINDOW_EXCEEDED, 1)).isEqualTo(4);
    }

    @Test
    void fallsBackAfterRetriesAndSaysSoInTheHeaders() {
        Router r = router(List.of(dep("a", "gpt-4o"), dep("m", "gpt-4o-mini")),
                RouterSettings.builder().numRetries(1).fallbacks("gpt-4o", List.of("gpt-4o-mini")));
        RoutingSession s = r.begin("gpt-4o", RouteRequest.EMPTY);
        List<String> log = drive(s, d -> d.id().equals("a") ? new Outcome(500, 0, null) : Outcome.OK);
        assertThat(log).filteredOn(l -> !l.startsWith("wait")).containsExactly("a", "a", "m(fallback)");
        assertThat(s.servedDeployment().id()).isEqualTo("m");
        assertThat(s.attemptedFallbacks()).isEqualTo(1);
        assertThat(s.attemptedRetries()).isZero();
        assertThat(s.modelGroup()).isEqualTo("gpt-4o-mini");
    }

    @Test
    void eachCallSaysItsAttemptRetryGroupAndWhetherItIsAFallback() {
        Router r = router(List.of(dep("a", "gpt-4o"), dep("m", "gpt-4o-mini")),
                RouterSettings.builder().numRetries(1).fallbacks("gpt-4o", List.of("gpt-4o-mini")));
        RoutingSession s = r.begin("gpt-4o", RouteRequest.EMPTY);
        List<Decision.Call> calls = new ArrayList<>();
        for (Decision d = s.next(); !(d instanceof Decision.Fail); d = s.next()) {
            if (d instanceof Decision.Call c) {
                calls.add(c);
                s.onFailure(500, 0, ErrorClass.SERVER_ERROR);
            }
        }
        assertThat(calls).extracting(c -> c.deployment().id() + " " + c.modelGroup() + " attempt=" + c.attempt() + " retry=" + c.retry() + " fallback=" + c.fallback())
                .containsExactly("a gpt-4o attempt=1 retry=0 fallback=false", "a gpt-4o attempt=2 retry=1 fallback=false",
                        "m gpt-4o-mini attempt=3 retry=0 fallback=true", "m gpt-4o-mini attempt=4 retry=1 fallback=true");
        assertThat(s.attempts()).isEqualTo(4);
    }

    @Test
    void notFoundGoesStraightToFallbacksAndTheStarFallbackIsTheDefault() {
        Router r = router(List.of(dep("a", "x"), dep("b", "y")), RouterSettings.builder().numRetries(3).fallbacks("*", List.of("y")));
        RoutingSession s = r.begin("x", RouteRequest.EMPTY);
        assertThat(drive(s, d -> d.id().equals("a") ? new Outcome(404, 0, null) : Outcome.OK)).containsExactly("a", "b(fallback)");
    }

    @Test
    void contextWindowFallbackWhenThePromptExceedsMaxInputTokens() {
        Router r = router(List.of(
                        Deployment.builder().id("small").modelName("gpt-4o-mini").model("openai/gpt-4o-mini").maxInputTokens(4_000).build(),
                        Deployment.builder().id("big").modelName("gpt-4.1").model("openai/gpt-4.1").build()),
                RouterSettings.builder().enablePreCallChecks(true)
                        .contextWindowFallbacks("gpt-4o-mini", List.of("gpt-4.1")).fallbacks("gpt-4o-mini", List.of("nowhere")));
        RoutingSession s = r.begin("gpt-4o-mini", RouteRequest.of(50_000));
        assertThat(drive(s, d -> Outcome.OK)).containsExactly("big(fallback)");
        assertThat(s.attemptedFallbacks()).isEqualTo(1);
        // the upstream's own context-window error: no retry, straight to the context-window fallback
        RoutingSession t = r.begin("gpt-4o-mini", RouteRequest.of(100));
        assertThat(drive(t, d -> d.id().equals("small") ? new Outcome(400, 0, ErrorClass.CONTEXT_WINDOW_EXCEEDED) : Outcome.OK))
                .containsExactly("small", "big(fallback)");
    }

    @Test
    void contentPolicyFallback() {
        Router r = router(List.of(dep("strict", "a"), dep("lenient", "b")),
                RouterSettings.builder().numRetries(2).contentPolicyFallbacks("a", List.of("b")));
        RoutingSession s = r.begin("a", RouteRequest.EMPTY);
        assertThat(drive(s, d -> d.id().equals("strict") ? new Outcome(400, 0, ErrorClass.CONTENT_POLICY) : Outcome.OK))
                .containsExactly("strict", "lenient(fallback)");
    }

    @Test
    void atMostFiveFallbacksAreTriedAndTheErrorNamesTheGroupAndTheCause() {
        List<Deployment> ds = new ArrayList<>();
        List<String> chain = new ArrayList<>();
        ds.add(dep("main", "main"));
        for (int i = 1; i <= 7; i++) {
            ds.add(dep("f" + i, "fb" + i));
            chain.add("fb" + i);
        }
        Router r = router(ds, RouterSettings.builder().numRetries(0).fallbacks("main", chain));
        RoutingSession s = r.begin("main", RouteRequest.EMPTY);
        List<String> log = drive(s, d -> new Outcome(503, 0, null));
        assertThat(log).containsExactly("main", "f1(fallback)", "f2(fallback)", "f3(fallback)", "f4(fallback)", "f5(fallback)", "fail 503");
        Decision end = s.next();
        assertThat(end).isInstanceOf(Decision.Fail.class);
        RouterException e = ((Decision.Fail) end).error();
        assertThat(e.modelGroup()).isEqualTo("main");
        assertThat(e.getMessage()).contains("'main'").contains("6 call(s)").contains("5 fallback group(s)").contains("deployment 'f5' failed with status 503");
    }

    @Test
    void noRequestIsLostWhenEveryDeploymentOfTheGroupFails() {
        Router r = router(List.of(dep("a", "g"), dep("b", "g"), dep("c", "g")), RouterSettings.builder().numRetries(5));
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        List<String> log = drive(s, d -> new Outcome(429, 0, null));
        // each 429 cools its deployment; once none is left the rate-limit error is not retried
        assertThat(log.subList(0, 3)).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(log.get(3)).isEqualTo("fail 429");
        assertThat(log).hasSize(4);
        RouterException e = ((Decision.Fail) s.next()).error();
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.getMessage()).contains("'g'").contains("status 429");
        // the next request finds the group cooling: 429 at once, with Retry-After
        RoutingSession t = r.begin("g", RouteRequest.EMPTY);
        Decision d = t.next();
        assertThat(d).isInstanceOfSatisfying(Decision.Fail.class, f -> {
            assertThat(f.error().status()).isEqualTo(429);
            assertThat(f.error().getMessage()).contains("No deployments available for model group 'g'").contains("3 in cooldown");
            assertThat(f.error().retryAfterMillis()).isPositive();
        });
    }

    @Test
    void unknownModelFailsAtOnceWith400() {
        Router r = router(List.of(dep("a", "g")), RouterSettings.builder());
        Decision d = r.begin("nope", RouteRequest.EMPTY).next();
        assertThat(d).isInstanceOfSatisfying(Decision.Fail.class, f -> {
            assertThat(f.error().status()).isEqualTo(400);
            assertThat(f.error().getMessage()).contains("model=nope");
        });
    }

    @Test
    void misuseIsAClearError() {
        Router r = router(List.of(dep("a", "g")), RouterSettings.builder());
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        assertThatThrownBy(() -> s.onSuccess(1, 0, 1, 1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no call in progress");
        s.next();
        assertThatThrownBy(s::next).isInstanceOf(IllegalStateException.class).hasMessageContaining("'a' has not been reported");
        s.onSuccess(1, 0, 1, 1);
        assertThatThrownBy(s::next).isInstanceOf(IllegalStateException.class).hasMessageContaining("already succeeded");
    }

    @Test
    void aDeploymentIdIsCalledDirectlyAndItsGroupsFallbacksApply() {
        Router r = router(List.of(dep("a", "g"), dep("b", "g"), dep("z", "h")), RouterSettings.builder().numRetries(1).fallbacks("g", List.of("h")));
        RoutingSession s = r.begin("b", RouteRequest.EMPTY);
        assertThat(drive(s, d -> d.id().equals("b") ? new Outcome(500, 0, null) : Outcome.OK)).containsExactly("b", "b", "z(fallback)");
    }

    @Test
    void inFlightIsBalancedAfterEverySession() {
        Router r = router(List.of(dep("a", "g"), dep("b", "g")), RouterSettings.builder().routingStrategy(RoutingStrategy.LEAST_BUSY).numRetries(1));
        for (int i = 0; i < 10; i++) {
            boolean fail = i % 2 == 0;
            drive(r.begin("g", RouteRequest.EMPTY), d -> fail ? new Outcome(500, 0, null) : Outcome.OK);
        }
        assertThat(r.store().inFlight(0)).isZero();
        assertThat(r.store().inFlight(1)).isZero();
    }

    @Test
    void anAbandonedCallGivesBackItsInFlightCountAndEndsTheSession() {
        Router r = router(List.of(dep("a", "g"), dep("b", "g")),
                RouterSettings.builder().routingStrategy(RoutingStrategy.LEAST_BUSY));
        RoutingSession held = r.begin("g", RouteRequest.EMPTY);
        String first = ((Decision.Call) held.next()).deployment().id();
        String other = first.equals("a") ? "b" : "a";
        RoutingSession left = r.begin("g", RouteRequest.EMPTY);
        assertThat(((Decision.Call) left.next()).deployment().id()).isEqualTo(other);

        left.abandon();
        left.abandon();

        // `other` has nothing in flight again, `first` still has one: least-busy picks `other`.
        for (int i = 0; i < 5; i++) {
            assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo(other);
        }
        assertThat(left.next()).isInstanceOf(Decision.Fail.class);
        assertThat(((Decision.Fail) left.next()).error().status()).isEqualTo(499);
    }

    @Test
    void aStreamStaysInFlightUntilItEndsAndThenReportsItsRealTokensAndTimes() {
        // Regression: a stream was reported a success at its first chunk, with 0 completion
        // tokens: least-busy saw it idle while it streamed, usage-based routing never counted its
        // completion, and latency samples were not per output token. LiteLLM logs it at the end.
        Router r = router(List.of(dep("a", "g"), dep("b", "g")), RouterSettings.builder().routingStrategy(RoutingStrategy.LEAST_BUSY));
        RoutingSession s = r.begin("g", RouteRequest.EMPTY);
        Deployment served = ((Decision.Call) s.next()).deployment();
        s.onStreamStart();
        assertThat(s.servedDeployment()).isEqualTo(served);
        assertThatThrownBy(s::next).hasMessageContaining("already succeeded");
        int slot = served.id().equals("a") ? 0 : 1;
        assertThat(r.store().inFlight(slot)).isEqualTo(1);
        for (int i = 0; i < 5; i++) assertThat(r.route("g", RouteRequest.EMPTY)).isNotEqualTo(served);
        s.onStreamEnd(2_000_000_000L, 400_000_000L, 10, 200);
        assertThat(r.store().inFlight(slot)).isZero();
        long minute = Router.minuteOf(clock.getAsLong());
        assertThat(r.store().tokensInMinute(slot, minute)).isEqualTo(210);
        assertThat(r.store().averageLatency(slot, false)).isEqualTo(10_000_000L); // 2 s / 200 tokens
        assertThat(r.store().averageLatency(slot, true)).isEqualTo(2_000_000L); // 0.4 s / 200 tokens
        assertThatThrownBy(() -> s.onStreamEnd(1, 1, 1, 1)).hasMessageContaining("no stream in progress");

        // A stream the client leaves gives back its in-flight count only.
        RoutingSession left = r.begin("g", RouteRequest.EMPTY);
        Deployment d = ((Decision.Call) left.next()).deployment();
        left.onStreamStart();
        left.abandon();
        assertThat(r.store().inFlight(d.id().equals("a") ? 0 : 1)).isZero();
        assertThat(left.servedDeployment()).isEqualTo(d);
    }
}
