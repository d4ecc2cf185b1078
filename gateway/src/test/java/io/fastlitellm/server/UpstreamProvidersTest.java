package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.mockserver.MockServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real providers over real sockets, gateway to the project's mock upstream server. */
class UpstreamProvidersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLOSED_PORT = freePort();

    @RegisterExtension
    @Order(1)
    static final MockServerExtension upstream = MockServerExtension.plain();

    @RegisterExtension
    @Order(2)
    static final GatewayExtension gw = GatewayExtension.withConfig(() -> """
            model_list:
              - model_name: gpt
                litellm_params: {model: openai/gpt-4o-real, api_base: "%1$s/v1", api_key: sk-upstream-secret}
                model_info: {id: dep-openai}
              - model_name: az
                litellm_params: {model: azure/my-deployment, api_base: "%1$s", api_key: az-key, api_version: "2024-06-01"}
              - model_name: claude
                litellm_params: {model: anthropic/claude-sonnet-4, api_base: "%1$s", api_key: ant-key}
              - model_name: claude-strict
                litellm_params: {model: anthropic/claude-sonnet-4, api_base: "%1$s"}
              - model_name: limited
                litellm_params:
                  model: openai/x
                  api_base: "%1$s/v1"
                  extra_headers: {x-mock-status: "429", x-mock-retry-after: "9"}
                model_info: {id: dep-limited}
              - model_name: down
                litellm_params: {model: openai/x, api_base: "http://127.0.0.1:%2$d/v1"}
                model_info: {id: dep-down}
              - model_name: slow
                litellm_params: {model: openai/x, api_base: "%1$s/v1", timeout: 0.3, extra_headers: {x-mock-latency-ms: "3000"}}
                model_info: {id: dep-slow}
              - model_name: trickle
                litellm_params: {model: openai/x, api_base: "%1$s/v1", extra_headers: {x-mock-chunk-interval-ms: "100", x-mock-response: "a b c d e f g h i j k l m n o p"}}
              - model_name: cut
                litellm_params: {model: openai/x, api_base: "%1$s/v1", extra_headers: {x-mock-cut-after: "3"}}
              - model_name: "openai/*"
                litellm_params: {model: "openai/*", api_base: "%1$s/v1"}
                model_info: {id: dep-wildcard}
              - model_name: claude-cut
                litellm_params: {model: anthropic/c, api_base: "%1$s", extra_headers: {x-mock-cut-after: "4"}}
              - model_name: filtered
                litellm_params: {model: openai/f, api_base: "%1$s/v1", extra_headers: {x-mock-finish-reason: content_filter}}
                model_info: {id: dep-filtered}
              - model_name: filtered-alone
                litellm_params: {model: openai/f, api_base: "%1$s/v1", extra_headers: {x-mock-finish-reason: content_filter}}
                model_info: {id: dep-filtered-alone}
            litellm_settings:
              drop_params: false
            router_settings:
              num_retries: 0   # each test sees one attempt; retries are RoutingThroughServerTest's subject
              content_policy_fallbacks: [{filtered: [gpt]}]
            """.formatted(upstream.url(), CLOSED_PORT));

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private MockServer.RecordedRequest lastUpstreamRequest() {
        List<MockServer.RecordedRequest> all = upstream.server().recentRequests();
        return all.get(all.size() - 1);
    }

    @Test
    void openAiChatGoesUpstreamWithTheDeploymentsModelAndKey() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}],\"metadata\":{\"tags\":[\"x\"]}}");
        assertThat(res.statusCode()).isEqualTo(200);
        MockServer.RecordedRequest up = lastUpstreamRequest();
        assertThat(up.uri()).isEqualTo("/v1/chat/completions");
        assertThat(up.headers()).containsEntry("authorization", "Bearer sk-upstream-secret");
        JsonNode sent = JSON.readTree(up.body());
        assertThat(sent.path("model").asText()).isEqualTo("gpt-4o-real");
        assertThat(sent.has("metadata")).isFalse();
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("choices").get(0).path("message").path("content").asText())
                .isEqualTo("Hello from the fast-litellm mock server.");
        // The mock server counts words in every string of the messages, role included: "user one two three".
        assertThat(body.path("usage").path("prompt_tokens").asLong()).isEqualTo(4);
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("dep-openai");
        assertThat(res.headers().firstValue("x-litellm-model-api-base")).hasValue(upstream.url() + "/v1");
    }

    @Test
    void aContentFilteredAnswerFallsBackOnlyWhenTheGroupHasAContentPolicyFallback() throws Exception {
        // LiteLLM's _should_raise_content_policy_error: a 200 whose finish_reason is "content_filter"
        // is a content-policy failure when content_policy_fallbacks names the group...
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("filtered"));
        GatewayExtension.assertServed(res, "dep-openai", 0, 1);
        assertThat(JSON.readTree(res.body()).path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        // ...and otherwise the answer is the client's, as it came.
        HttpResponse<String> alone = gw.post("/v1/chat/completions", GatewayExtension.chat("filtered-alone"));
        assertThat(alone.statusCode()).isEqualTo(200);
        assertThat(alone.headers().firstValue("x-litellm-model-id")).hasValue("dep-filtered-alone");
        assertThat(JSON.readTree(alone.body()).path("choices").get(0).path("finish_reason").asText()).isEqualTo("content_filter");
    }

    @Test
    void openAiStreamIsRelayedAndTheUsageChunkOnlyWhenAskedFor() throws Exception {
        String req = "{\"model\":\"gpt\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> res = gw.post("/v1/chat/completions", req);
        assertThat(res.statusCode()).isEqualTo(200);
        List<String> events = ChatCompletionsTest.events(res.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertThat(chunk.path("choices").isEmpty()).as("no usage-only chunk: " + e).isFalse();
            text.append(chunk.path("choices").get(0).path("delta").path("content").asText(""));
        }
        assertThat(text.toString()).isEqualTo("Hello from the fast-litellm mock server.");
        // We always ask upstream for usage, to account for tokens.
        assertThat(JSON.readTree(lastUpstreamRequest().body()).path("stream_options").path("include_usage").asBoolean()).isTrue();

        HttpResponse<String> withUsage = gw.post("/v1/chat/completions",
                "{\"model\":\"gpt\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        List<String> ev = ChatCompletionsTest.events(withUsage.body());
        JsonNode usageChunk = JSON.readTree(ev.get(ev.size() - 2));
        assertThat(usageChunk.path("usage").path("completion_tokens").asLong()).isEqualTo(6);
    }

    @Test
    void aWildcardDeploymentServesTheModelAskedFor() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("openai/gpt-4.1-nano"));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue("dep-wildcard");
        assertThat(JSON.readTree(lastUpstreamRequest().body()).path("model").asText()).isEqualTo("gpt-4.1-nano");
    }

    @Test
    void azureUsesDeploymentUrlApiVersionAndApiKeyHeader() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("az"));
        assertThat(res.statusCode()).isEqualTo(200);
        MockServer.RecordedRequest up = lastUpstreamRequest();
        assertThat(up.uri()).isEqualTo("/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01");
        assertThat(up.headers()).containsEntry("api-key", "az-key").doesNotContainKey("authorization");
    }

    @Test
    void anthropicRequestAndAnswerAreTranslated() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", """
                {"model": "claude", "max_tokens": 50, "stop": "END", "temperature": 0.2,
                 "messages": [
                   {"role": "system", "content": "Be brief."},
                   {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
                   {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "look", "arguments": "{\\"q\\": 1}"}}]},
                   {"role": "tool", "tool_call_id": "call_1", "content": "a cat"}],
                 "tools": [{"type": "function", "function": {"name": "look", "description": "Look", "parameters": {"type": "object"}}}],
                 "tool_choice": "required"}
                """);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        MockServer.RecordedRequest up = lastUpstreamRequest();
        assertThat(up.uri()).isEqualTo("/v1/messages");
        assertThat(up.headers()).containsEntry("x-api-key", "ant-key").containsEntry("anthropic-version", "2023-06-01");
        JsonNode sent = JSON.readTree(up.body());
        assertThat(sent.path("model").asText()).isEqualTo("claude-sonnet-4");
        assertThat(sent.path("max_tokens").asInt()).isEqualTo(50);
        assertThat(sent.path("system").get(0).path("text").asText()).isEqualTo("Be brief.");
        assertThat(sent.path("stop_sequences").get(0).asText()).isEqualTo("END");
        JsonNode msgs = sent.path("messages");
        assertThat(msgs).hasSize(3);
        assertThat(msgs.get(0).path("content").get(1).path("source").path("media_type").asText()).isEqualTo("image/png");
        assertThat(msgs.get(1).path("content").get(0).path("type").asText()).isEqualTo("tool_use");
        assertThat(msgs.get(1).path("content").get(0).path("input").path("q").asInt()).isEqualTo(1);
        assertThat(msgs.get(2).path("role").asText()).isEqualTo("user");
        assertThat(msgs.get(2).path("content").get(0).path("type").asText()).isEqualTo("tool_result");
        assertThat(sent.path("tools").get(0).path("input_schema").path("type").asText()).isEqualTo("object");
        assertThat(sent.path("tool_choice").path("type").asText()).isEqualTo("any");

        JsonNode body = JSON.readTree(res.body());
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        assertThat(body.path("choices").get(0).path("message").path("content").asText())
                .isEqualTo("Hello from the fast-litellm mock server.");
        assertThat(body.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(body.path("usage").path("completion_tokens").asLong()).isEqualTo(6);
        assertThat(body.path("usage").path("total_tokens").asLong())
                .isEqualTo(body.path("usage").path("prompt_tokens").asLong() + 6);
    }

    @Test
    void anthropicDefaultsMaxTokensAndRejectsParamsItLacksUnlessDropped() throws Exception {
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("claude")).statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(lastUpstreamRequest().body()).path("max_tokens").asInt()).isEqualTo(4096);

        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"claude-strict\",\"presence_penalty\":0.5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).contains("presence_penalty").contains("drop_params");
    }

    @Test
    void anthropicStreamBecomesChatCompletionChunks() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"claude\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        List<String> events = ChatCompletionsTest.events(res.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            if (chunk.path("choices").isEmpty()) {
                usage = chunk.path("usage");
                continue;
            }
            JsonNode choice = chunk.path("choices").get(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (!choice.path("finish_reason").isNull()) {
                finish = choice.path("finish_reason").asText();
            }
        }
        assertThat(text.toString()).isEqualTo("Hello from the fast-litellm mock server.");
        assertThat(finish).isEqualTo("stop");
        assertThat(usage).isNotNull();
        // Words in every string of the translated messages: "user", "text", "hi", "there".
        assertThat(usage.path("prompt_tokens").asLong()).isEqualTo(4);
        assertThat(usage.path("completion_tokens").asLong()).isEqualTo(6);
    }

    @Test
    void upstreamRateLimitKeepsStatusAndRetryAfter() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("limited"));
        assertThat(res.statusCode()).isEqualTo(429);
        assertThat(res.headers().firstValue("retry-after")).hasValue("9");
        JsonNode error = JSON.readTree(res.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("rate_limit_error");
        assertThat(error.path("message").asText()).contains("dep-limited").contains("429").contains("x-mock-status");
    }

    @Test
    void connectionRefusedIsA502NamingDeploymentAndCause() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("down"));
        assertThat(res.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(res.body()).path("error").path("message").asText())
                .contains("dep-down").contains("127.0.0.1:" + CLOSED_PORT).contains("connection refused");
    }

    @Test
    void aSlowUpstreamTimesOutWithA408() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("slow"));
        assertThat(res.statusCode()).isEqualTo(408);
        assertThat(JSON.readTree(res.body()).path("error").path("message").asText()).contains("dep-slow").contains("300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("no hang").isLessThan(2900);
    }

    @Test
    void aStreamCutByTheUpstreamEndsWithAnErrorEvent() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"cut\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        List<String> events = ChatCompletionsTest.events(res.body());
        assertThat(events).doesNotContain("[DONE]");
        assertThat(events.get(events.size() - 1)).contains("\"error\"").contains("closed the connection");

        HttpResponse<String> claude = gw.post("/v1/chat/completions",
                "{\"model\":\"claude-cut\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        List<String> ce = ChatCompletionsTest.events(claude.body());
        assertThat(ce).doesNotContain("[DONE]");
        assertThat(ce.get(ce.size() - 1)).contains("\"error\"");
    }

    @Test
    void connectionsToTheUpstreamAreReused() throws Exception {
        long before = upstream.server().connectionsOpened();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 1000 / 16 + 1; i++) {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                                .POST(HttpRequest.BodyPublishers.ofString(GatewayExtension.chat("gpt"))).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : results) {
                ok += f.get(120, TimeUnit.SECONDS);
            }
            assertThat(ok).isEqualTo(16 * (1000 / 16 + 1));
        } finally {
            pool.shutdownNow();
        }
        assertThat(upstream.server().connectionsOpened() - before).isLessThanOrEqualTo(16);
        assertThat(gw.gateway().upstreamStats().reused()).isGreaterThan(900);
    }

    @Test
    void aClientAbortMidStreamClosesTheUpstreamStream() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.gateway().port())) {
            String body = "{\"model\":\"trickle\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.contains("\"content\":\"a\"")) {
                // until the first word arrives
            }
            assertThat(line).isNotNull();
            assertThat(upstream.server().connectionsOpen()).isGreaterThanOrEqualTo(1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((gw.gateway().inFlight() != 0 || gw.gateway().upstreamStats().inUse() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gw.gateway().inFlight()).isZero();
        assertThat(gw.gateway().upstreamStats().inUse()).isZero();
        // The mock server saw its streaming connection closed long before the 1.6 s stream would end.
        List<MockServer.RecordedRequest> reqs = upstream.server().recentRequests();
        assertThat(reqs.get(reqs.size() - 1).headers()).containsEntry("x-mock-chunk-interval-ms", "100");
    }
}
