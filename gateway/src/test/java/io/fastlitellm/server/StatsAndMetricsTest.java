package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** GET /stats, /stats/recommendations and /metrics after real traffic through the server. */
class StatsAndMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: good
                litellm_params: {model: mock/gpt-4o, mock_usage: {prompt_tokens: 7, completion_tokens: 5}}
                model_info: {id: good-1}
              - model_name: shaky
                litellm_params: {model: mock/s, mock_status: 500}
                model_info: {id: shaky-bad}
              - model_name: shaky
                litellm_params: {model: mock/s}
                model_info: {id: shaky-ok}
            router_settings: {num_retries: 1, allowed_fails: 1000, disable_cooldowns: true}
            general_settings: {master_key: sk-admin}
            virtual_keys:
              - {key: sk-tiny, rpm_limit: 1}
            """);

    private static final String[] AUTH = {"authorization", "Bearer sk-admin"};

    @Test
    void statsCountEveryComponentOfRealRequests() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("good"), AUTH).statusCode()).isEqualTo(200);
        }
        JsonNode stats = JSON.readTree(gw.get("/stats", AUTH).body());
        assertThat(stats.path("enabled").asBoolean()).isTrue();
        JsonNode c = stats.path("components");
        assertThat(c.path("request").path("calls").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(c.path("tokenizer").path("calls").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(c.path("tokenizer").path("input_size").asLong()).isPositive();
        assertThat(c.path("router").path("calls").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(c.path("upstream").path("calls").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(c.path("upstream").path("output_size").asLong()).isGreaterThanOrEqualTo(25);
        assertThat(c.path("request").path("latency_us").path("p99").asLong()).isPositive();
        assertThat(stats.path("switches").path("rate_limiting").asBoolean()).isTrue();
        assertThat(stats.path("routing_strategy").asText()).isEqualTo("simple-shuffle");

        JsonNode one = JSON.readTree(gw.get("/stats?component=router", AUTH).body()).path("components");
        assertThat(one.size()).isEqualTo(1);
        assertThat(one.has("router")).isTrue();

        HttpResponse<String> csv = gw.get("/stats?format=csv", AUTH);
        assertThat(csv.headers().firstValue("content-type").orElseThrow()).startsWith("text/csv");
        assertThat(csv.body().split("\n")[0]).startsWith("component,calls,errors");
        assertThat(csv.body()).contains("\nrequest,");

        assertThat(gw.get("/stats?component=nope", AUTH).statusCode()).isEqualTo(400);
        assertThat(gw.get("/stats?format=xml", AUTH).statusCode()).isEqualTo(400);
        assertThat(gw.get("/stats").statusCode()).isEqualTo(401);
    }

    @Test
    void metricsArePrometheusTextWithRequestsTokensAndRejections() throws Exception {
        gw.post("/v1/chat/completions", GatewayExtension.chat("good"), AUTH);
        gw.post("/v1/chat/completions", GatewayExtension.chat("good"), "authorization", "Bearer sk-tiny");
        gw.post("/v1/chat/completions", GatewayExtension.chat("good"), "authorization", "Bearer sk-tiny");
        HttpResponse<String> res = gw.get("/metrics", AUTH);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
        String body = res.body();
        assertThat(body).contains("# TYPE fast_litellm_requests_total counter");
        assertThat(body).containsPattern("fast_litellm_requests_total\\{deployment=\"good-1\",model_group=\"good\",status=\"200\"} [1-9]");
        assertThat(body).containsPattern("fast_litellm_tokens_total\\{model_group=\"good\",type=\"completion\"} [1-9]");
        assertThat(body).containsPattern("fast_litellm_rate_limit_rejections_total\\{scope=\"key\"} [1-9]");
        assertThat(body).contains("fast_litellm_request_duration_seconds_bucket");
        assertThat(body).contains("fast_litellm_overhead_duration_seconds_bucket");
        assertThat(body).contains("fast_litellm_upstream_connections{state=\"open\"}");
        assertThat(body).contains("fast_litellm_deployments_in_cooldown");
    }

    @Test
    void recommendationsNameAFailingDeploymentWithItsFigure() throws Exception {
        for (int i = 0; i < 60; i++) {
            // A retry may land on the broken deployment again (as in LiteLLM), so a few may fail.
            assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("shaky"), AUTH).statusCode()).isIn(200, 500);
        }
        JsonNode recs = JSON.readTree(gw.get("/stats/recommendations", AUTH).body()).path("recommendations");
        boolean found = false;
        for (JsonNode r : recs) {
            if (r.path("message").asText().contains("shaky-bad")) {
                found = true;
                assertThat(r.path("component").asText()).isEqualTo("router");
                assertThat(r.path("figure").asText()).contains("% of").contains("attempts failed");
            }
            assertThat(r.path("message").asText()).doesNotContain("shaky-ok");
        }
        assertThat(found).as(recs.toString()).isTrue();
    }
}
