package io.fastlitellm.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Two routers (two gateway instances) over one store, as with a Redis-backed store. */
class SharedStoreTest {
    private final TestClock clock = new TestClock();
    private final InMemoryDeploymentStateStore shared = new InMemoryDeploymentStateStore(2);
    private final List<Deployment> ds = List.of(
            Deployment.builder().id("a").modelName("g").model("mock/a").build(),
            Deployment.builder().id("b").modelName("g").model("mock/b").build());

    private Router instance(RoutingStrategy s) {
        return Router.builder(ds, RouterSettings.builder().routingStrategy(s).build())
                .nanoTime(clock).random(new SplittableRandom(5)).stateStore(list -> shared).build();
    }

    @Test
    void aCooldownStartedByOneInstanceIsRespectedAndEndedByTheOther() {
        Router one = instance(RoutingStrategy.LEAST_BUSY);
        Router two = instance(RoutingStrategy.LEAST_BUSY);
        one.recordFailure(one.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT);
        assertThat(two.route("g", RouteRequest.EMPTY).id()).isEqualTo("b"); // the candidate is checked against the store
        two.refreshFromStore();
        assertThat(two.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
        clock.advance(Duration.ofSeconds(5));
        assertThat(two.route("g", RouteRequest.EMPTY).id()).isEqualTo("a");
    }

    @Test
    void refreshFromStoreBringsInOtherInstancesLoad() {
        Router one = instance(RoutingStrategy.LEAST_BUSY);
        Router two = instance(RoutingStrategy.LEAST_BUSY);
        one.recordStart(one.deployment("a"));
        assertThat(two.route("g", RouteRequest.EMPTY).id()).as("index not refreshed yet").isEqualTo("a");
        two.refreshFromStore();
        assertThat(two.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
    }

    @Test
    void aDeploymentFreedInTheStoreIsFoundEvenBeforeTheIndexKnows() {
        Router one = instance(RoutingStrategy.LEAST_BUSY);
        Router two = instance(RoutingStrategy.LEAST_BUSY);
        one.recordFailure(one.deployment("a"), 429, 0, ErrorClass.RATE_LIMIT);
        one.recordFailure(one.deployment("b"), 429, 0, ErrorClass.RATE_LIMIT);
        two.refreshFromStore(); // two's index now has both out
        shared.setCooldownUntil(1, DeploymentStateStore.NO_COOLDOWN); // e.g. an operator cleared b's cooldown
        assertThat(two.route("g", RouteRequest.EMPTY).id()).isEqualTo("b");
    }
}
