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
    void serverErrorsCoolOnlyWhenMoreThanHalfOfThisMinutesRequestsFailed() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder());
        Deployment a = r.deployment("a");
        r.recordStart(a);
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).as("first request of the minute").isFalse();
        r.recordStart(a);
        r.recordSuccess(a, 1, 0, 1, 1);
        assertThat(r.recordFailure(a, 503, 0, ErrorClass.SERVER_ERROR)).as("2 of 3 failed").isTrue();
    }

    @Test
    void fiftyPercentIsNotAboveHalf() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder());
        Deployment a = r.deployment("a");
        r.recordSuccess(a, 1, 0, 1, 1);
        assertThat(r.recordFailure(a, 500, 0, ErrorClass.SERVER_ERROR)).isFalse();
    }

    @Test
    void nonRetryableCountedErrorsCoolAfterTheFirstRequestAndOtherClientErrorsNever() {
        Router r = router(List.of(dep("a").build(), dep("b").build()), RouterSettings.builder());
        Deployment a = r.deployment("a"), b = r.deployment("b");
        for (int i = 0; i < 5; i++) r.recordSuccess(a, 1, 0, 1, 1);
        assertThat(r.recordFailure(a, 401, 0, ErrorClass.AUTHENTICATION)).isTrue();
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
    void theOnlyDeploymentOfAGroupIsNeverCooled() {
        Router r = router(List.of(dep("a").build()), RouterSettings.builder());
        for (int i = 0; i < 10; i++) assertThat(r.recordFailure(r.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT)).isFalse();
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
