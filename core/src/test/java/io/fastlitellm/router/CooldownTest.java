package io.fastlitellm.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CooldownTest {
    private final TestClock clock = new TestClock();

    private Router router(List<Deployment> ds, RouterSettings.Builder s) {
        return Router.builder(ds, s.build()).nanoTime(clock).random(new SplittableRandom(7)).build();
    }

    private static Deployment.Builder dep(String id) {
        return Deployment.builder().id(id).modelName("g").model("mock/" + id);
    }

    @Test
    void a429CoolsForTheRoutersCooldownTimeAndExpiresByTheClock() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().cooldownTime(Duration.ofSeconds(30)));
        Deployment a = r.deployment("a");
        assertThat(r.recordFailure(a, 429, 0, ErrorClass.RATE_LIMIT)).isTrue();
        for (int i = 0; i < 100; i++) assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
        clock.advance(Duration.ofSeconds(29));
        assertThat(r.isInCooldown(a)).isTrue();
        assertThat(r.cleanup(clock.getAsLong())).isEqualTo(Duration.ofSeconds(1).toNanos());
        clock.advance(Duration.ofSeconds(1));
        assertThat(r.isInCooldown(a)).isFalse();
        boolean sawA = false;
        for (int i = 0; i < 100 && !sawA; i++) sawA = r.route("g", RouteRequest.EMPTY).id().equals("a");
        assertThat(sawA).isTrue();
        assertThat(r.cleanup(clock.getAsLong())).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void durationIsTheDeploymentsCooldownTimeElseRetryAfterElseTheRouters() {
        Router r = router(List.of(dep("own").cooldownTime(Duration.ofSeconds(2)).build(), dep("plain").build(), dep("other").build()),
                RouterSettings.builder());
        r.recordFailure(r.deployment("own"), 429, 60_000, ErrorClass.RATE_LIMIT);
        r.recordFailure(r.deployment("plain"), 429, 10_000, ErrorClass.RATE_LIMIT);
        clock.advance(Duration.ofSeconds(2));
        assertThat(r.isInCooldown(r.deployment("own"))).isFalse();
        assertThat(r.isInCooldown(r.deployment("plain"))).isTrue();
        clock.advance(Duration.ofSeconds(8));
        assertThat(r.isInCooldown(r.deployment("plain"))).isFalse();
        r.recordFailure(r.deployment("plain"), 429, 0, ErrorClass.RATE_LIMIT);
        clock.advance(Duration.ofMillis(4_999));
        assertThat(r.isInCooldown(r.deployment("plain"))).isTrue(); // default cooldown_time: 5 s
        clock.advance(Duration.ofMillis(1));
        assertThat(r.isInCooldown(r.deployment("plain"))).isFalse();
    }

    @Test
    void serverErrorsCoolOnlyWhenMoreThanHalfOfAtLeastFiveRequestsThisMinuteFailed() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder());
        Deployment a = r.deployment("a");
        // Regression: a first failure is a 100 % failure rate; LiteLLM (issue 17418) waits for
        // DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS = 5 requests this minute before the rate counts.
        for (int i = 1; i <= 4; i++) assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).as("%d of %d failed", i, i).isFalse();
        assertThat(r.recordFailure(a, 503, 0, ErrorClass.SERVER_ERROR)).as("5 of 5 failed").isTrue();

        clock.advance(Duration.ofMinutes(1)); // a new minute starts the counts over
        Deployment b = r.deployment("b");
        r.recordSuccess(b, 1, 0, 1, 1);
        r.recordSuccess(b, 1, 0, 1, 1);
        assertThat(r.recordFailure(b, 500, 0, ErrorClass.SERVER_ERROR)).as("1 of 3").isFalse();
        assertThat(r.recordFailure(b, 500, 0, ErrorClass.SERVER_ERROR)).as("2 of 4").isFalse();
        assertThat(r.recordFailure(b, 500, 0, ErrorClass.SERVER_ERROR)).as("3 of 5").isTrue();
    }

    @Test
    void fiftyPercentIsNotAboveHalf() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder());
        Deployment a = r.deployment("a");
        for (int i = 0; i < 3; i++) r.recordSuccess(a, 1, 0, 1, 1);
        for (int i = 0; i < 3; i++) assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
    }

    @Test
    void nonRetryableCountedErrorsCoolAtTheFirstFailureAndOtherClientErrorsNever() {
        Router r = router(List.of(dep("a").build(), dep("b").build(), dep("c").build()), RouterSettings.builder());
        Deployment a = r.deployment("a"), b = r.deployment("b"), c = r.deployment("c");
        for (int i = 0; i < 5; i++) r.recordSuccess(a, 1, 0, 1, 1);
        assertThat(r.recordFailure(a, 401, 0, ErrorClass.AUTHENTICATION)).isTrue();
        // Regression: LiteLLM's `_should_retry(status) is False` cools whatever the minute's count,
        // so the very first request of a minute that answers 404 takes the deployment out.
        assertThat(r.recordFailure(c, 404, 0, ErrorClass.NOT_FOUND)).isTrue();
        for (int i = 0; i < 20; i++) assertThat(r.recordFailure(b, 400, 0, ErrorClass.BAD_REQUEST)).isFalse();
        for (int i = 0; i < 5; i++) assertThat(r.recordFailure(b, 422, 0, ErrorClass.BAD_REQUEST)).isFalse();
    }

    @Test
    void allowedFailsCoolsOnceFailuresThisMinuteExceedIt() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().allowedFails(2));
        Deployment a = r.deployment("a");
        for (int i = 0; i < 10; i++) r.recordSuccess(a, 1, 0, 1, 1);
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isTrue();
    }

    @Test
    void withAllowedFailsSetA429OrA401IsOneMoreFailureNotAnImmediateCooldown() {
        // Regression: LiteLLM's should_cooldown_based_on_allowed_fails_policy replaces the default
        // rules when allowed_fails is set; we cooled at the first 429 regardless.
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().allowedFails(2));
        Deployment a = r.deployment("a");
        assertThat(r.recordFailure(a, 429, 0, ErrorClass.RATE_LIMIT)).isFalse();
        assertThat(r.recordFailure(a, 401, 0, ErrorClass.AUTHENTICATION)).isFalse();
        assertThat(r.recordFailure(a, 429, 0, ErrorClass.RATE_LIMIT)).isTrue();
        // Errors that do not count for cooldowns do not count towards allowed_fails either.
        Deployment b = r.deployment("b");
        for (int i = 0; i < 5; i++) assertThat(r.recordFailure(b, 400, 0, ErrorClass.BAD_REQUEST)).isFalse();
    }

    @Test
    void theOnlyDeploymentOfAGroupCoolsOnlyWhenAThousandRequestsThisMinuteAllFailed() {
        Router r = router(List.of(dep("a").build()), RouterSettings.builder());
        Deployment a = r.deployment("a");
        for (int i = 1; i < 1000; i++) assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).as("failure %d", i).isFalse();
        // LiteLLM's SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD: all of at least 1000 requests failed.
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isTrue();
        clock.advance(Duration.ofMinutes(1));
        r.recordSuccess(a, 1, 0, 1, 1);
        for (int i = 0; i < 1500; i++) assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
    }

    @Test
    void theOnlyDeploymentIsNotCooledBy429sNonRetryableErrorsOrAllowedFails() {
        Router r = router(List.of(dep("a").build()), RouterSettings.builder());
        for (int i = 0; i < 10; i++) assertThat(r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT)).isFalse();
        // Unlike LiteLLM, neither a non-retryable error nor allowed_fails cools the only deployment:
        // its client keeps getting the upstream's own error rather than "no deployments available".
        for (int i = 0; i < 10; i++) assertThat(r.recordFailure(r.deployment("a"), 401, 0, ErrorClass.AUTHENTICATION)).isFalse();
        Router counted = router(List.of(dep("a").build()), RouterSettings.builder().allowedFails(0));
        assertThat(counted.recordFailure(counted.deployment("a"), 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
        assertThat(r.route("g", RouteRequest.EMPTY).id()).isEqualTo("a");
    }

    @Test
    void whenAllAreCoolingTheErrorIs429NamingTheGroupAndWhenToRetry() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().cooldownTime(Duration.ofSeconds(5)));
        r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT);
        clock.advance(Duration.ofSeconds(2));
        r.recordFailure(r.deployment("b"), 429, 0, ErrorClass.RATE_LIMIT);
        assertThatThrownBy(() -> r.route("g", RouteRequest.EMPTY)).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.modelGroup()).isEqualTo("g");
            assertThat(e.getMessage()).contains("'g'").contains("2 in cooldown").contains("3.0 s");
            assertThat(e.retryAfterMillis()).isEqualTo(3_000);
        });
    }

    @Test
    void disableCooldownsKeepsEveryDeploymentInRotation() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().disableCooldowns(true));
        assertThat(r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT)).isFalse();
    }

    @Test
    void cooldownIsSeenByEveryStrategysIndex() {
        for (RoutingStrategy s : RoutingStrategy.values()) {
            Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder().routingStrategy(s));
            r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT);
            for (int i = 0; i < 20; i++) assertThat(r.route("g", RouteRequest.EMPTY).id()).as(s.configName()).isEqualTo("b");
            clock.advance(Duration.ofSeconds(6));
            r.recordFailure(r.deployment("b"), 429, 0, ErrorClass.RATE_LIMIT);
            assertThat(r.route("g", RouteRequest.EMPTY).id()).as(s.configName()).isEqualTo("a");
        }
    }
}
