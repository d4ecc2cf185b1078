package io.fastlitellm.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.provider.ApiKind;
import io.fastlitellm.provider.TextTokenCounter;
import io.fastlitellm.tokenizer.ChatTokenCounter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exact token counts for the gateway, with LiteLLM's {@code token_counter} semantics: a chat
 * request is counted for the model of the group it asks for (the first deployment's
 * {@code model_info.base_model}, else its provider model), so limits, routing and the mock's
 * usage agree with what the model's tokenizer says. Thread-safe; counters are cached per model.
 */
final class Tokens implements TextTokenCounter {
    private static final TypeReference<List<Map<String, Object>>> MESSAGES = new TypeReference<>() { };
    private final ObjectMapper json;
    private final Map<String, String> modelOfGroup = new HashMap<>();
    private final Map<String, ChatTokenCounter> counters = new ConcurrentHashMap<>();
    private final boolean exact;

    Tokens(GatewayConfig config, ObjectMapper json) {
        this.json = json;
        this.exact = config.switches().tokenCounting();
        for (DeploymentConfig d : config.deployments()) {
            modelOfGroup.putIfAbsent(d.modelName(), countingModel(d));
        }
        config.modelGroupAlias().forEach((alias, group) -> modelOfGroup.putIfAbsent(alias, modelOfGroup.get(group)));
    }

    static String countingModel(DeploymentConfig d) {
        Object base = d.modelInfo().get("base_model");
        return base instanceof String s && !s.isEmpty() ? s : d.providerModel();
    }

    private static long countInput(ChatTokenCounter counter, JsonNode input) {
        if (input == null || input.isNull()) {
            return 0;
        }
        if (input.isTextual()) {
            return counter.countText(input.textValue());
        }
        if (input.isInt()) {
            return 1;
        }
        long n = 0;
        for (JsonNode e : input) {
            n += countInput(counter, e);
        }
        return n;
    }

    private ChatTokenCounter counter(String model) {
        return counters.computeIfAbsent(model, ChatTokenCounter::forModel);
    }

    @Override
    public long count(String model, String text) {
        return exact ? counter(model).countText(text) : (text.length() + 3) / 4;
    }

    /**
     * With token counting switched off ({@code FAST_LITELLM_TOKEN_COUNTING=false}): four characters a
     * token over every string below {@code node} (a message, a prompt); the caller adds LiteLLM's 3 per
     * message and 3 per request for chat.
     */
    static long estimate(JsonNode node) {
        if (node == null) {
            return 0;
        }
        if (node.isTextual()) {
            return (node.textValue().length() + 3) / 4;
        }
        long n = 0;
        for (JsonNode child : node) {
            n += estimate(child);
        }
        return n;
    }

    /**
     * The prompt tokens of a request body for {@code requestedModel} (a group, alias or other name):
     * chat messages by LiteLLM's rules; a completion's {@code prompt} or embeddings' {@code input} as
     * text (token-id inputs count one token per id).
     */
    long prompt(String requestedModel, ApiKind kind, ObjectNode body) {
        if (!exact) {
            if (kind != ApiKind.CHAT) {
                return estimate(body.get(kind == ApiKind.COMPLETION ? "prompt" : "input"));
            }
            long n = 3;
            for (JsonNode m : body.path("messages")) {
                n += 3 + estimate(m);
            }
            return n;
        }
        String model = modelOfGroup.getOrDefault(requestedModel, requestedModel);
        if (kind != ApiKind.CHAT) {
            JsonNode input = body.get(kind == ApiKind.COMPLETION ? "prompt" : "input");
            return countInput(counter(model), input);
        }
        List<Map<String, Object>> messages = json.convertValue(body.get("messages"), MESSAGES);
        JsonNode tools = body.get("tools");
        JsonNode toolChoice = body.get("tool_choice");
        return counter(model).count(messages,
                tools == null || tools.isNull() ? null : json.convertValue(tools, List.class),
                toolChoice == null || toolChoice.isNull() ? null
                        : toolChoice.isTextual() ? toolChoice.textValue() : json.convertValue(toolChoice, Map.class));
    }
}
