package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Each FAST_LITELLM_* switch, set in fast_litellm_settings, changes what the running gateway does. */
class SwitchesThroughServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Nested
    class AllOff {
        @RegisterExtension
        @Order(1)
        static final MockServerExtension upstream = MockServerExtension.plain();

        @RegisterExtension
        @Order(2)
        static final GatewayExtension gw = GatewayExtension.withConfig(() -> """
                model_list:
                  - model_name: local
                    litellm_params: {model: mock/gpt-4o}
                  - model_name: remote
                    litellm_params: {model: openai/x, api_base: "%s/v1"}
                router_settings: {routing_strategy: least-busy}
                general_settings: {master_key: sk-admin}
                virtual_keys: [{key: sk-one, rpm_limit: 1}]
                fast_litellm_settings: {token_counting: false, rate_limiting: false, routing: false,
                                        connection_pooling: false, stats: false}
                """.formatted(upstream.url()));

        @Test
        void noLimitsNoPoolingNoStatsEstimatedTokensAndSimpleShuffle() throws Exception {
            for (int i = 0; i < 3; i++) {
                assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("local"), "authorization", "Bearer sk-one")
                        .statusCode()).as("rpm_limit 1 is not enforced").isEqualTo(200);
            }
            // Estimated, not counted: "user" (1) + "Hello there" (3) + 3 per message + 3 = 10; exact would be 9.
            JsonNode usage = JSON.readTree(gw.post("/v1/chat/completions", GatewayExtension.chat("local"),
                    "authorization", "Bearer sk-admin").body()).path("usage");
            assertThat(usage.path("prompt_tokens").asLong()).isEqualTo(10);

            long before = upstream.server().connectionsOpened();
            for (int i = 0; i < 4; i++) {
                assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("remote"), "authorization", "Bearer sk-admin")
                        .statusCode()).isEqualTo(200);
            }
            assertThat(upstream.server().connectionsOpened() - before).as("a connection per call").isEqualTo(4);

            JsonNode stats = JSON.readTree(gw.get("/stats", "authorization", "Bearer sk-admin").body());
            assertThat(stats.path("enabled").asBoolean()).isFalse();
            assertThat(stats.path("components").path("request").path("calls").asLong()).isZero();
            assertThat(stats.path("routing_strategy").asText()).isEqualTo("simple-shuffle");
            assertThat(stats.path("switches").path("token_counting").asBoolean()).isFalse();
        }
    }

    @Nested
    class AllOn {
        @RegisterExtension
        @Order(1)
        static final MockServerExtension upstream = MockServerExtension.plain();

        @RegisterExtension
        @Order(2)
        static final GatewayExtension gw = GatewayExtension.withConfig(() -> """
                model_list:
                  - model_name: local
                    litellm_params: {model: mock/gpt-4o}
                  - model_name: remote
                    litellm_params: {model: openai/x, api_base: "%s/v1"}
                router_settings: {routing_strategy: least-busy}
                virtual_keys: [{key: sk-one, rpm_limit: 1}]
                """.formatted(upstream.url()));

        @Test
        void limitsPoolingExactTokensAndTheConfiguredStrategy() throws Exception {
            assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("local"), "authorization", "Bearer sk-one")
                    .statusCode()).isEqualTo(200);
            assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("local"), "authorization", "Bearer sk-one")
                    .statusCode()).isEqualTo(429);
            long before = upstream.server().connectionsOpened();
            for (int i = 0; i < 4; i++) {
                gw.post("/v1/chat/completions", GatewayExtension.chat("remote"), "authorization", "Bearer sk-one");
            }
            assertThat(upstream.server().connectionsOpened() - before).isLessThanOrEqualTo(1);
            JsonNode stats = JSON.readTree(gw.get("/stats", "authorization", "Bearer sk-one").body());
            assertThat(stats.path("routing_strategy").asText()).isEqualTo("least-busy");
            assertThat(stats.path("components").path("request").path("calls").asLong()).isPositive();
        }
    }
}
