package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.mockserver.MockServer;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The text completions and embeddings routes, on the mock provider and over real sockets to OpenAI and Azure shapes. */
class CompletionsAndEmbeddingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    @Order(1)
    static final MockServerExtension upstream = MockServerExtension.plain();

    @RegisterExtension
    @Order(2)
    static final GatewayExtension gw = GatewayExtension.withConfig(() -> """
            model_list:
              - model_name: local
                litellm_params: {model: mock/text-embedding-3-small, mock_response: "one two three"}
              - model_name: remote
                litellm_params: {model: openai/text-embedding-3-small, api_base: "%1$s/v1"}
              - model_name: az
                litellm_params: {model: azure/emb, api_base: "%1$s", api_key: k, api_version: "2024-06-01"}
              - model_name: claude
                litellm_params: {model: anthropic/claude, api_base: "%1$s"}
            router_settings: {num_retries: 0}
            """.formatted(upstream.url()));

    @Test
    void mockEmbeddingsAreDeterministicVectorsWithUsage() throws Exception {
        HttpResponse<String> res = gw.post("/v1/embeddings", "{\"model\":\"local\",\"input\":[\"hello world\",\"bye\"],\"dimensions\":4}");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("object").asText()).isEqualTo("list");
        assertThat(body.path("data")).hasSize(2);
        assertThat(body.path("data").get(0).path("embedding")).hasSize(4);
        // "hello world" and "bye" in cl100k_base: 2 + 1 tokens.
        assertThat(body.path("usage").path("prompt_tokens").asLong()).isEqualTo(3);
        HttpResponse<String> again = gw.post("/embeddings", "{\"model\":\"local\",\"input\":\"hello world\",\"dimensions\":4}");
        assertThat(JSON.readTree(again.body()).path("data").get(0).path("embedding"))
                .isEqualTo(body.path("data").get(0).path("embedding"));
    }

    @Test
    void mockTextCompletionsAnswerAndStream() throws Exception {
        HttpResponse<String> res = gw.post("/v1/completions", "{\"model\":\"local\",\"prompt\":\"Say something\"}");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("object").asText()).isEqualTo("text_completion");
        assertThat(body.path("choices").get(0).path("text").asText()).isEqualTo("one two three");

        HttpResponse<String> stream = gw.post("/completions", "{\"model\":\"local\",\"prompt\":\"x\",\"stream\":true}");
        List<String> events = ChatCompletionsTest.events(stream.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            text.append(JSON.readTree(e).path("choices").get(0).path("text").asText());
        }
        assertThat(text.toString()).isEqualTo("one two three");
    }

    @Test
    void openAiAndAzureEmbeddingsGoToTheirPaths() throws Exception {
        HttpResponse<String> res = gw.post("/v1/embeddings", "{\"model\":\"remote\",\"input\":\"a b c\"}");
        assertThat(res.statusCode()).isEqualTo(200);
        List<MockServer.RecordedRequest> seen = upstream.server().recentRequests();
        assertThat(seen.get(seen.size() - 1).uri()).isEqualTo("/v1/embeddings");
        assertThat(JSON.readTree(seen.get(seen.size() - 1).body()).path("model").asText()).isEqualTo("text-embedding-3-small");
        assertThat(JSON.readTree(res.body()).path("data").get(0).path("embedding").size()).isEqualTo(8);

        assertThat(gw.post("/v1/embeddings", "{\"model\":\"az\",\"input\":\"x\"}").statusCode()).isEqualTo(200);
        seen = upstream.server().recentRequests();
        assertThat(seen.get(seen.size() - 1).uri()).isEqualTo("/openai/deployments/emb/embeddings?api-version=2024-06-01");

        assertThat(gw.post("/v1/completions", "{\"model\":\"remote\",\"prompt\":\"hi\"}").statusCode()).isEqualTo(200);
        seen = upstream.server().recentRequests();
        assertThat(seen.get(seen.size() - 1).uri()).isEqualTo("/v1/completions");
    }

    @Test
    void badInputAndUnsupportedCombinationsAreClear400s() throws Exception {
        HttpResponse<String> noInput = gw.post("/v1/embeddings", "{\"model\":\"local\"}");
        assertThat(noInput.statusCode()).isEqualTo(400);
        assertThat(noInput.body()).contains("'input'");
        HttpResponse<String> badInput = gw.post("/v1/embeddings", "{\"model\":\"local\",\"input\":{}}");
        assertThat(badInput.statusCode()).isEqualTo(400);
        HttpResponse<String> noPrompt = gw.post("/v1/completions", "{\"model\":\"local\"}");
        assertThat(noPrompt.statusCode()).isEqualTo(400);
        assertThat(noPrompt.body()).contains("'prompt'");
        HttpResponse<String> anthropic = gw.post("/v1/embeddings", "{\"model\":\"claude\",\"input\":\"x\"}");
        assertThat(anthropic.statusCode()).isEqualTo(400);
        assertThat(anthropic.body()).contains("chat completions only");
    }
}
