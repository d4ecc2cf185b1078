package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Chat completions through the real server: answers, streams, headers, routing within a group, mock failures. */
class ChatCompletionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: mock/gpt-4o, mock_response: "Hello from A", mock_usage: {prompt_tokens: 11, completion_tokens: 3}}
                model_info: {id: dep-a}
              - model_name: gpt-4o
                litellm_params: {model: mock/gpt-4o, mock_response: "Hello from B", mock_usage: {prompt_tokens: 11, completion_tokens: 3}}
                model_info: {id: dep-b}
              - model_name: words
                litellm_params: {model: mock/words, mock_response: "one two three four"}
                model_info: {id: dep-words}
              - model_name: chunks
                litellm_params: {model: mock/chunks, mock_response: "abcdefghij", mock_stream_chunks: 3}
              - model_name: broken
                litellm_params: {model: mock/broken, mock_status: 429, mock_retry_after: 7}
                model_info: {id: dep-broken}
              - model_name: flaky
                litellm_params: {model: mock/flaky, mock_failure_rate: 0.5, mock_status: 503}
              - model_name: remote
                litellm_params: {model: bedrock/claude, api_base: "https://example.invalid"}
                model_info: {id: dep-remote}
            router_settings:
              model_group_alias: {gpt-4: gpt-4o}
              num_retries: 0   # each test sees one attempt; retries are RoutingThroughServerTest's subject
            """);

    @Test
    void answersAChatCompletionInOpenAisShape() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("words"));
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        assertThat(body.path("id").asText()).startsWith("chatcmpl-");
        assertThat(body.path("model").asText()).isEqualTo("words");
        JsonNode choice = body.path("choices").get(0);
        assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
        assertThat(choice.path("message").path("content").asText()).isEqualTo("one two three four");
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = body.path("usage");
        assertThat(usage.path("total_tokens").asLong())
                .isEqualTo(usage.path("prompt_tokens").asLong() + usage.path("completion_tokens").asLong());
        assertThat(usage.path("completion_tokens").asLong()).isPositive();
    }

    @Test
    void everyAnswerCarriesLiteLlmHeaders() throws Exception {
        HttpResponse<String> res = gw.post("/chat/completions", GatewayExtension.chat("words"));
        GatewayExtension.assertServed(res, "dep-words", 0, 0);
        assertThat(res.headers().firstValue("x-litellm-model-group")).hasValue("words");
        String overhead = res.headers().firstValue("x-litellm-overhead-duration-ms").orElseThrow();
        assertThat(Double.parseDouble(overhead)).isGreaterThanOrEqualTo(0.0);
    }

    @Test
    void usageComesFromMockUsageWhenSet() throws Exception {
        JsonNode body = JSON.readTree(gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o")).body());
        assertThat(body.path("usage").path("prompt_tokens").asLong()).isEqualTo(11);
        assertThat(body.path("usage").path("completion_tokens").asLong()).isEqualTo(3);
        assertThat(body.path("usage").path("total_tokens").asLong()).isEqualTo(14);
    }

    @Test
    void spreadsAGroupOverItsDeployments() throws Exception {
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"));
            String id = res.headers().firstValue("x-litellm-model-id").orElseThrow();
            String content = JSON.readTree(res.body()).path("choices").get(0).path("message").path("content").asText();
            assertThat(content).isEqualTo(id.equals("dep-a") ? "Hello from A" : "Hello from B");
            served.add(id);
        }
        assertThat(served).containsExactlyInAnyOrder("dep-a", "dep-b");
    }

    @Test
    void resolvesModelGroupAliases() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4"));
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-litellm-model-group")).hasValue("gpt-4o");
    }

    @Test
    void servesAzureStyleDeploymentPaths() throws Exception {
        HttpResponse<String> res = gw.post("/openai/deployments/words/chat/completions?api-version=2024-06-01",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("dep-words");
    }

    @Test
    void streamsChunksEndingInDone() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"words\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue("text/event-stream");
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("dep-words");
        List<String> events = events(res.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.has("usage")).as("no usage field unless include_usage").isFalse();
            JsonNode choice = chunk.path("choices").get(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (!choice.path("finish_reason").isNull()) {
                finish = choice.path("finish_reason").asText();
            }
        }
        assertThat(text.toString()).isEqualTo("one two three four");
        assertThat(finish).isEqualTo("stop");
        JsonNode first = JSON.readTree(events.get(0)).path("choices").get(0).path("delta");
        assertThat(first.path("role").asText()).isEqualTo("assistant");
        // One role chunk, one chunk per word, one finish chunk.
        assertThat(events).hasSize(1 + 4 + 1 + 1);
    }

    @Test
    void streamCarriesUsageInTheLastChunkWhenAskedFor() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        List<String> events = events(res.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertThat(last.path("choices").isEmpty()).isTrue();
        assertThat(last.path("usage").path("prompt_tokens").asLong()).isEqualTo(11);
        assertThat(last.path("usage").path("completion_tokens").asLong()).isEqualTo(3);
        for (String e : events.subList(0, events.size() - 2)) {
            assertThat(JSON.readTree(e).path("usage").isNull()).isTrue();
        }
    }

    @Test
    void mockStreamChunksCutsTheTextIntoThatManyPieces() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"chunks\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        List<String> pieces = new ArrayList<>();
        for (String e : events(res.body())) {
            if (!e.equals("[DONE]")) {
                JsonNode delta = JSON.readTree(e).path("choices").get(0).path("delta");
                if (delta.has("content") && !delta.path("content").asText().isEmpty()) {
                    pieces.add(delta.path("content").asText());
                }
            }
        }
        assertThat(pieces).containsExactly("abcd", "efg", "hij");
    }

    @Test
    void mockStatusFailsWithThatStatusNamingTheDeployment() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("broken"));
        assertThat(res.statusCode()).isEqualTo(429);
        assertThat(res.headers().firstValue("retry-after")).hasValue("7");
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("dep-broken");
        JsonNode error = JSON.readTree(res.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("rate_limit_error");
        assertThat(error.path("code").asText()).isEqualTo("429");
        assertThat(error.path("message").asText()).contains("dep-broken").contains("broken");
    }

    @Test
    void mockFailureRateFailsAboutThatShare() throws Exception {
        int failures = 0;
        int n = 200;
        for (int i = 0; i < n; i++) {
            int status = gw.post("/v1/chat/completions", GatewayExtension.chat("flaky")).statusCode();
            assertThat(status).isIn(200, 503);
            if (status == 503) {
                failures++;
            }
        }
        // Seeded: the share is fixed run to run; the bounds are those of a fair binomial (p=0.5, n=200, ~5 sigma).
        assertThat(failures).isBetween(65, 135);
    }

    @Test
    void aProviderThisBuildLacksIsAClearError() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("remote"));
        assertThat(res.statusCode()).isEqualTo(501);
        assertThat(JSON.readTree(res.body()).path("error").path("message").asText())
                .contains("dep-remote").contains("bedrock");
    }

    @Test
    void listsModelsAndAliases() throws Exception {
        HttpResponse<String> res = gw.get("/v1/models");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("object").asText()).isEqualTo("list");
        List<String> ids = new ArrayList<>();
        body.path("data").forEach(m -> {
            assertThat(m.path("object").asText()).isEqualTo("model");
            ids.add(m.path("id").asText());
        });
        assertThat(ids).containsExactly("gpt-4o", "words", "chunks", "broken", "flaky", "remote", "gpt-4");
        assertThat(gw.get("/models").statusCode()).isEqualTo(200);
    }

    @Test
    void healthSplitsDeploymentsIntoHealthyAndUnhealthy() throws Exception {
        JsonNode body = JSON.readTree(gw.get("/health").body());
        assertThat(body.path("healthy_count").asInt()).isEqualTo(5);
        assertThat(body.path("unhealthy_count").asInt()).isEqualTo(2);
        List<String> unhealthy = new ArrayList<>();
        body.path("unhealthy_endpoints").forEach(e -> unhealthy.add(e.path("model_id").asText()));
        assertThat(unhealthy).containsExactlyInAnyOrder("dep-broken", "dep-remote");
        assertThat(gw.get("/health/liveliness").body()).isEqualTo("\"I'm alive!\"");
        assertThat(JSON.readTree(gw.get("/health/readiness").body()).path("status").asText()).isEqualTo("healthy");
    }

    @Test
    void warnsAtStartupAboutProvidersThisBuildLacks() {
        assertThat(gw.log()).anySatisfy(line -> assertThat(line).contains("bedrock").contains("model_list[6]"));
    }

    /** The data payloads of an SSE body, in order. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.startsWith("data: ")) {
                out.add(block.substring(6));
            } else if (!block.isBlank()) {
                throw new AssertionError("not an SSE data event: " + block);
            }
        }
        return out;
    }
}
