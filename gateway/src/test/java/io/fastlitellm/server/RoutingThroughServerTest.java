package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** LiteLLM's retries, cooldowns and fallbacks through the real server, with mock deployments that fail. */
class RoutingThroughServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: mixed
                litellm_params: {model: mock/a, mock_status: 500}
                model_info: {id: mixed-broken}
              - model_name: mixed
                litellm_params: {model: mock/a, mock_response: "healthy"}
                model_info: {id: mixed-healthy}
              - model_name: primary
                litellm_params: {model: mock/p, mock_status: 503}
                model_info: {id: primary-down}
              - model_name: backup
                litellm_params: {model: mock/b, mock_response: "from backup"}
                model_info: {id: backup-1}
              - model_name: small
                litellm_params: {model: mock/gpt-4o-mini, mock_response: "small"}
                model_info: {id: small-1, max_input_tokens: 20}
              - model_name: big
                litellm_params: {model: mock/gpt-4o, mock_response: "big"}
                model_info: {id: big-1, max_input_tokens: 100000}
              - model_name: doomed
                litellm_params: {model: mock/d, mock_status: 503}
                model_info: {id: doomed-1}
              - model_name: doomed
                litellm_params: {model: mock/d, mock_status: 500}
                model_info: {id: doomed-2}
              - model_name: limited
                litellm_params: {model: mock/l, mock_status: 429}
                model_info: {id: limited-1}
              - model_name: limited
                litellm_params: {model: mock/l, mock_response: "unlimited one"}
                model_info: {id: limited-2}
              - model_name: ordered
                litellm_params: {model: mock/o, mock_status: 502, order: 1}
                model_info: {id: ordered-broken}
              - model_name: ordered
                litellm_params: {model: mock/o, mock_response: "second", order: 2}
                model_info: {id: ordered-healthy}
            router_settings:
              num_retries: 2
              allowed_fails: 0
              cooldown_time: 60
              enable_pre_call_checks: true
              fallbacks: [{primary: [backup]}]
              context_window_fallbacks: [{small: [big]}]
            """);

    private static JsonNode body(HttpResponse<String> res) throws Exception {
        return JSON.readTree(res.body());
    }

    @Test
    void aFailedAttemptIsRetriedOnAnotherDeployment() throws Exception {
        Map<String, Integer> retriesSeen = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("mixed"));
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("mixed-healthy");
            retriesSeen.merge(res.headers().firstValue("x-litellm-attempted-retries").orElseThrow(), 1, Integer::sum);
        }
        // At most the first request met the broken deployment; after one failure (allowed_fails: 0) it
        // cools down for 60 s and no later request tries it.
        assertThat(retriesSeen.getOrDefault("1", 0)).isLessThanOrEqualTo(1);
        assertThat(retriesSeen.getOrDefault("0", 0)).isGreaterThanOrEqualTo(19);
    }

    @Test
    void theRetryHeaderCountsTheRetryThatServed() throws Exception {
        // order makes it deterministic: the order-1 deployment is always tried first until it cools
        // down (allowed_fails: 0), so the first request is served by a retry and the next ones not.
        GatewayExtension.assertServed(gw.post("/v1/chat/completions", GatewayExtension.chat("ordered")), "ordered-healthy", 1, 0);
        GatewayExtension.assertServed(gw.post("/v1/chat/completions", GatewayExtension.chat("ordered")), "ordered-healthy", 0, 0);
    }

    @Test
    void aRateLimitedDeploymentIsCooledDownAndTheOtherServes() throws Exception {
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("limited"));
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("limited-2");
        }
    }

    @Test
    void aGroupThatFailsFallsBackToItsFallback() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("primary"));
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(body(res).path("choices").get(0).path("message").path("content").asText()).isEqualTo("from backup");
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("backup-1");
        assertThat(res.headers().firstValue("x-litellm-model-group")).hasValue("backup");
        assertThat(res.headers().firstValue("x-litellm-attempted-fallbacks")).hasValue("1");
    }

    @Test
    void aPromptOverMaxInputTokensGoesToTheContextWindowFallback() throws Exception {
        String longPrompt = "word ".repeat(200);
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"small\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longPrompt + "\"}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("big-1");
        assertThat(body(res).path("choices").get(0).path("message").path("content").asText()).isEqualTo("big");
        // A short prompt stays on the small model.
        HttpResponse<String> shortOne = gw.post("/v1/chat/completions", GatewayExtension.chat("small"));
        assertThat(shortOne.headers().firstValue("x-litellm-model-id")).hasValue("small-1");
    }

    @Test
    void whenEveryDeploymentFailsTheClientGetsAClearErrorNamingGroupAndCause() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("doomed"));
        // Both deployments fail once and cool down (allowed_fails: 0); then none is left, which
        // LiteLLM answers with 429 "No deployments available", naming the group; the last upstream
        // error is appended so the cause is visible.
        assertThat(res.statusCode()).isEqualTo(429);
        assertThat(res.headers().firstValue("retry-after")).as("when the first leaves cooldown").isPresent();
        JsonNode error = body(res).path("error");
        // Which of the two failed last depends on the routing draws: either cause will do, but named.
        assertThat(error.path("message").asText()).as(res.body()).contains("'doomed'")
                .contains("after 2 call(s)") // bounded: one per deployment, then no deployment is left
                .containsPattern("doomed-[12] \\(model group doomed\\) failed with status 50[03]");
        assertThat(error.path("code").asText()).isEqualTo(Integer.toString(res.statusCode()));
    }
}
