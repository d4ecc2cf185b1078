package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of bad request gets OpenAI-shaped error JSON, the right status and a message saying what to fix. */
class BadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: mock/gpt-4o}
              - model_name: claude
                litellm_params: {model: mock/claude}
            general_settings:
              max_request_size_mb: 0.01
            """);

    private static JsonNode error(HttpResponse<String> res) throws Exception {
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = JSON.readTree(res.body());
        JsonNode error = body.path("error");
        assertThat(error.isObject()).as("OpenAI error shape: " + res.body()).isTrue();
        assertThat(error.path("code").asText()).isEqualTo(Integer.toString(res.statusCode()));
        assertThat(error.has("type")).isTrue();
        assertThat(error.has("param")).isTrue();
        return error;
    }

    @Test
    void malformedJsonIs400WithWhere() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", "{\"model\": \"gpt-4o\", \"messages\": [");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(error(res).path("message").asText()).startsWith("Malformed JSON").contains("line 1");
    }

    @Test
    void emptyBodyIs400() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", "");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(error(res).path("message").asText()).contains("empty");
    }

    @Test
    void bodyThatIsNotAnObjectIs400() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", "[1,2]");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(error(res).path("message").asText()).contains("JSON object").contains("an array");
    }

    @Test
    void missingModelIs400() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode e = error(res);
        assertThat(e.path("message").asText()).contains("'model'");
        assertThat(e.path("param").asText()).isEqualTo("model");
    }

    @Test
    void missingMessagesIs400() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", "{\"model\":\"gpt-4o\"}");
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode e = error(res);
        assertThat(e.path("message").asText()).contains("'messages'");
        assertThat(e.path("param").asText()).isEqualTo("messages");
    }

    @Test
    void unknownModelIs400NamingItAndTheServedOnes() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-5-turbo"));
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(error(res).path("message").asText()).contains("gpt-5-turbo").contains("gpt-4o").contains("claude");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            model                    | {"model": 5, "messages": [{"role":"user","content":"hi"}]}
            messages                 | {"model": "gpt-4o", "messages": "hi"}
            messages[0]              | {"model": "gpt-4o", "messages": ["hi"]}
            messages[0].role         | {"model": "gpt-4o", "messages": [{"role":"robot","content":"hi"}]}
            messages[1].content      | {"model": "gpt-4o", "messages": [{"role":"user","content":"hi"},{"role":"user","content":7}]}
            messages[0].content[0]   | {"model": "gpt-4o", "messages": [{"role":"user","content":[{"text":"no type"}]}]}
            messages[0].name         | {"model": "gpt-4o", "messages": [{"role":"user","content":"hi","name":1}]}
            stream                   | {"model": "gpt-4o", "stream": "yes", "messages": [{"role":"user","content":"hi"}]}
            temperature              | {"model": "gpt-4o", "temperature": "hot", "messages": [{"role":"user","content":"hi"}]}
            max_tokens               | {"model": "gpt-4o", "max_tokens": 1.5, "messages": [{"role":"user","content":"hi"}]}
            n                        | {"model": "gpt-4o", "n": "two", "messages": [{"role":"user","content":"hi"}]}
            stop                     | {"model": "gpt-4o", "stop": 3, "messages": [{"role":"user","content":"hi"}]}
            stop[1]                  | {"model": "gpt-4o", "stop": ["a", 3], "messages": [{"role":"user","content":"hi"}]}
            tools                    | {"model": "gpt-4o", "tools": {}, "messages": [{"role":"user","content":"hi"}]}
            tool_choice              | {"model": "gpt-4o", "tool_choice": 1, "messages": [{"role":"user","content":"hi"}]}
            metadata                 | {"model": "gpt-4o", "metadata": [], "messages": [{"role":"user","content":"hi"}]}
            user                     | {"model": "gpt-4o", "user": 12, "messages": [{"role":"user","content":"hi"}]}
            stream_options.include_usage | {"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": 1}, "messages": [{"role":"user","content":"hi"}]}
            """)
    void wrongTypesAre400NamingTheField(String field, String body) throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", body);
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode e = error(res);
        assertThat(e.path("param").asText()).isEqualTo(field);
        assertThat(e.path("message").asText()).contains("'" + field + "'");
    }

    @Test
    void streamOptionsWithoutStreamIs400() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(error(res).path("param").asText()).isEqualTo("stream_options");
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String big = "x".repeat(20_000);
        HttpResponse<String> res = gw.post("/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"}]}");
        assertThat(res.statusCode()).isEqualTo(413);
        assertThat(error(res).path("message").asText()).contains("max_request_size_mb").contains("10485");
        // The server keeps serving (on a new connection: the client's pool may still hold the closed one).
        HttpResponse<String> next = HttpClient.newHttpClient().send(HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(GatewayExtension.chat("gpt-4o"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(next.statusCode()).isEqualTo(200);
    }

    @Test
    void wrongMethodIs405WithAllow() throws Exception {
        HttpResponse<String> res = gw.get("/v1/chat/completions");
        assertThat(res.statusCode()).isEqualTo(405);
        assertThat(res.headers().firstValue("allow")).hasValue("POST");
        error(res);
        HttpResponse<String> del = gw.send(HttpRequest.newBuilder(gw.uri("/v1/models")).DELETE().build());
        assertThat(del.statusCode()).isEqualTo(405);
        assertThat(del.headers().firstValue("allow")).hasValue("GET");
    }

    @Test
    void unknownPathIs404() throws Exception {
        HttpResponse<String> res = gw.post("/v1/nothing/here", "{}");
        assertThat(res.statusCode()).isEqualTo(404);
        assertThat(error(res).path("message").asText()).contains("/v1/nothing/here");
    }

    @Test
    void garbageOnTheSocketGetsA400AndTheServerKeepsServing() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.gateway().port())) {
            OutputStream out = s.getOutputStream();
            out.write("THIS IS NOT HTTP \u0000\u0001\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 400");
        }
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o")).statusCode()).isEqualTo(200);
    }
}
