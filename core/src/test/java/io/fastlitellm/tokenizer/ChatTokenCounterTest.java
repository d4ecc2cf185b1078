package io.fastlitellm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTokenCounterTest {

    /** OpenAI cookbook "How to count tokens with tiktoken": the API reported these prompt sizes. */
    private static final List<Map<String, Object>> COOKBOOK = List.of(
            Map.of("role", "system", "content",
                    "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."),
            ordered("role", "system", "name", "example_user", "content", "New synergies will help drive top-line growth."),
            ordered("role", "system", "name", "example_assistant", "content", "Things working well together will increase revenue."),
            ordered("role", "system", "name", "example_user", "content",
                    "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."),
            ordered("role", "system", "name", "example_assistant", "content",
                    "Let's talk later when we're less busy about how to do better."),
            ordered("role", "user", "content",
                    "This late pivot means we don't have time to boil the ocean for the client deliverable."));

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void matchesThePromptTokensOpenAiReportedForTheCookbookExample() {
        assertThat(ChatTokenCounter.forModel("gpt-4").count(COOKBOOK)).isEqualTo(129);
        assertThat(ChatTokenCounter.forModel("gpt-3.5-turbo-0613").count(COOKBOOK)).isEqualTo(129);
        // The 0301 snapshot's accounting: 4 per message, a name replaces the role (-1).
        assertThat(ChatTokenCounter.forModel("gpt-3.5-turbo-0301").count(COOKBOOK)).isEqualTo(127);
    }

    @Test
    void perMessageOverheadRoleAndNameAreCounted() {
        ChatTokenCounter c = ChatTokenCounter.forModel("gpt-4o");
        Encoding e = Encodings.get("o200k_base");
        int hello = e.countTokens("hello");
        int user = e.countTokens("user");
        assertThat(c.count(List.of(Map.of("role", "user", "content", "hello")))).isEqualTo(3 + user + hello + 3);
        assertThat(c.count(List.of(ordered("role", "user", "name", "bob", "content", "hello"))))
                .isEqualTo(3 + user + e.countTokens("bob") + 1 + hello + 3);
        // null values and non-string values of other keys are skipped, as in LiteLLM.
        assertThat(c.count(List.of(ordered("role", "user", "content", "hello", "extra", 5, "x", null))))
                .isEqualTo(3 + user + hello + 3);
        assertThat(c.count(List.of())).isEqualTo(3);
    }

    @Test
    void toolCallsCountTheirArgumentsAndObjectArgumentsCountAsPythonText() {
        ChatTokenCounter c = ChatTokenCounter.forModel("gpt-4o-mini");
        Encoding e = Encodings.get("o200k_base");
        Map<String, Object> call = Map.of("id", "call_1", "type", "function",
                "function", ordered("name", "get_weather", "arguments", "{\"city\": \"Paris\"}"));
        Map<String, Object> msg = ordered("role", "assistant", "content", null, "tool_calls", List.of(call));
        assertThat(c.count(List.of(msg))).isEqualTo(3 + e.countTokens("assistant") + e.countTokens("{\"city\": \"Paris\"}") + 3);
        Map<String, Object> objectArgs = Map.of("function", ordered("name", "f", "arguments", ordered("city", "Paris", "n", 2)));
        Map<String, Object> msg2 = ordered("role", "assistant", "tool_calls", List.of(objectArgs));
        assertThat(c.count(List.of(msg2))).isEqualTo(3 + e.countTokens("assistant") + e.countTokens("{'city': 'Paris', 'n': 2}") + 3);
        assertThatThrownBy(() -> c.count(List.of(Map.of("role", "assistant", "tool_calls", "x"))))
                .hasMessage("messages[0].tool_calls: a string (expected: a list)");
        assertThatThrownBy(() -> c.count(List.of(Map.of("role", "assistant", "tool_calls", List.of(Map.of("id", "1"))))))
                .hasMessageContaining("messages[0].tool_calls[0]: no function");
    }

    @Test
    void imagesCountByDetailAndSize() {
        ChatTokenCounter c = ChatTokenCounter.forModel("gpt-4o");
        Encoding e = Encodings.get("o200k_base");
        int base = 3 + e.countTokens("user") + 3;
        Map<String, Object> low = Map.of("type", "image_url", "image_url", Map.of("url", "https://x/y.png", "detail", "low"));
        assertThat(c.count(List.of(Map.of("role", "user", "content", List.of(low))))).isEqualTo(base + 85);
        Map<String, Object> plain = Map.of("type", "image_url", "image_url", "https://x/y.png");
        assertThat(c.count(List.of(Map.of("role", "user", "content", List.of(plain))))).isEqualTo(base + 85);
        // High detail: a 1024x1024 PNG is resized to 768x768, 4 tiles: 85 + 4 * 170.
        Map<String, Object> high = Map.of("type", "image_url", "image_url", Map.of("url", png(1024, 1024), "detail", "high"));
        assertThat(c.count(List.of(Map.of("role", "user", "content", List.of(high))))).isEqualTo(base + 85 + 4 * 170);
        // A URL with no sizer counts as the 300x300 default (1 tile); a sizer decides otherwise.
        Map<String, Object> highUrl = Map.of("type", "image_url", "image_url", Map.of("url", "https://x/big.png", "detail", "high"));
        assertThat(c.count(List.of(Map.of("role", "user", "content", List.of(highUrl))))).isEqualTo(base + 85 + 170);
        assertThat(c.withImageSizer(url -> new int[] {2048, 4096}).count(List.of(Map.of("role", "user", "content", List.of(highUrl)))))
                .isEqualTo(base + ChatTokenCounter.highDetailTokens(2048, 4096));
        assertThat(ChatTokenCounter.highDetailTokens(2048, 4096)).isEqualTo(85 + 170 * 2 * 3); // 768x1536: 2 x 3 tiles
        // LiteLLM's resize_image_high_res takes the short side to 768 even when that enlarges the image
        // (600x1000 -> 768x1280, 2 x 3 tiles; OpenAI's published rule would keep 600x1000, 2 x 2), and
        // caps the long side at 2000 (1000x5000 -> 400x2000, 1 x 4).
        assertThat(ChatTokenCounter.highDetailTokens(600, 1000)).isEqualTo(85 + 170 * 6);
        assertThat(ChatTokenCounter.highDetailTokens(1000, 5000)).isEqualTo(85 + 170 * 4);
        assertThat(ChatTokenCounter.highDetailTokens(700, 500)).isEqualTo(85 + 170 * 2); // both sides <= 768: as is
        assertThatThrownBy(() -> c.count(List.of(Map.of("role", "user", "content",
                List.of(Map.of("type", "image_url", "image_url", Map.of("url", "u", "detail", "max")))))))
                .hasMessage("messages[0].content[0].image_url.detail: 'max' (expected: 'low', 'high' or 'auto')");
    }

    @Test
    void textPartsAndUnknownPartTypes() {
        ChatTokenCounter c = ChatTokenCounter.forModel("gpt-4");
        Encoding e = Encodings.get("cl100k_base");
        List<Object> parts = List.of(Map.of("type", "text", "text", "Hi there"), "raw",
                Map.of("type", "thinking", "thinking", "hmm"), Map.of("type", "file", "file", Map.of("filename", "a.pdf", "file_data", "data:...")));
        assertThat(c.count(List.of(Map.of("role", "user", "content", parts))))
                .isEqualTo(3 + e.countTokens("user") + e.countTokens("Hi there") + e.countTokens("raw") + e.countTokens("hmm")
                        + e.countTokens("a.pdf") + 85 + 3);
        assertThatThrownBy(() -> c.count(List.of(Map.of("role", "user", "content", List.of(Map.of("type", "audio"))))))
                .hasMessageContaining("messages[0].content[0].type: 'audio' (expected one of text, image_url");
    }

    @Test
    void toolsAndToolChoiceAddLiteLlmsOverheads() {
        ChatTokenCounter c = ChatTokenCounter.forModel("gpt-4o");
        Encoding e = Encodings.get("o200k_base");
        Map<String, Object> params = ordered("type", "object",
                "properties", ordered(
                        "location", ordered("type", "string", "description", "The city"),
                        "unit", ordered("type", "string", "enum", List.of("celsius", "fahrenheit")),
                        "days", ordered("type", "array", "items", Map.of("type", "integer")),
                        "opts", ordered("type", "object", "properties", ordered("verbose", Map.of("type", "boolean")))),
                "required", List.of("location"));
        List<Object> tools = List.of(Map.of("type", "function", "function",
                ordered("name", "get_weather", "description", "Get the weather", "parameters", params)));
        String rendered = String.join("\n",
                "namespace functions {",
                "",
                "// Get the weather",
                "type get_weather = (_: {",
                "// The city",
                "location: string,",
                "unit?: \"celsius\" | \"fahrenheit\",",
                "days?: number[],",
                "opts?: {\n  verbose?: boolean,\n},",
                "}) => any;",
                "",
                "} // namespace functions");
        assertThat(ChatTokenCounter.ToolDefinitions.format(tools)).isEqualTo(rendered);
        List<Map<String, Object>> user = List.of(Map.of("role", "user", "content", "hi"));
        int messages = 3 + e.countTokens("user") + e.countTokens("hi");
        assertThat(c.count(user, tools, null)).isEqualTo(messages + 3 + e.countTokens(rendered) + 9);
        List<Map<String, Object>> withSystem = List.of(Map.of("role", "system", "content", "hi"));
        assertThat(c.count(withSystem, tools, "auto"))
                .isEqualTo(3 + e.countTokens("system") + e.countTokens("hi") + 3 + e.countTokens(rendered) + 9 - 4);
        assertThat(c.count(user, null, "none")).isEqualTo(messages + 3 + 1);
        assertThat(c.count(user, null, Map.of("type", "function", "function", Map.of("name", "get_weather"))))
                .isEqualTo(messages + 3 + 7 + e.countTokens("get_weather"));
        assertThatThrownBy(() -> c.count(user, null, Map.of("type", "function")))
                .hasMessageContaining("tool_choice.function.name: missing");
    }

    @Test
    void pythonTextMatchesPythonsStr() {
        assertThat(PythonText.str(ordered("a", 1, "b", java.util.Arrays.asList(true, null, 2.5), "c", "it's"))).isEqualTo("{'a': 1, 'b': [True, None, 2.5], 'c': \"it's\"}");
        assertThat(PythonText.floatRepr(1.0)).isEqualTo("1.0");
        assertThat(PythonText.floatRepr(1e16)).isEqualTo("1e+16");
        assertThat(PythonText.floatRepr(1.5e-5)).isEqualTo("1.5e-05");
        assertThat(PythonText.floatRepr(0.0001)).isEqualTo("0.0001");
    }

    /** A minimal PNG header (signature, IHDR length/type, width, height) as a data URL. */
    private static String png(int w, int h) {
        byte[] d = new byte[33];
        byte[] sig = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        System.arraycopy(sig, 0, d, 0, sig.length);
        for (int i = 0; i < 4; i++) {
            d[16 + i] = (byte) (w >>> (24 - 8 * i));
            d[20 + i] = (byte) (h >>> (24 - 8 * i));
        }
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(d);
    }
}
