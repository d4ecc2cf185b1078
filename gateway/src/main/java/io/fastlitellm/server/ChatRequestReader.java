package io.fastlitellm.server;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.provider.ApiKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.util.Set;

/**
 * Reads and checks a {@code /chat/completions} body. Promises: every problem a client can make is
 * a 400 {@link ApiError} whose message names the field ({@code messages[2].role}) and what was
 * expected; a body that passes has a string {@code model}, a non-empty {@code messages} array of
 * objects with valid roles, and correctly typed optional fields.
 */
final class ChatRequestReader {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");
    private static final String[] NUMBER_FIELDS = {"temperature", "top_p", "presence_penalty", "frequency_penalty"};
    private static final String[] INTEGER_FIELDS = {"max_tokens", "max_completion_tokens", "n", "seed", "top_logprobs"};
    private static final String[] OBJECT_FIELDS = {"metadata", "response_format", "logit_bias", "stream_options"};

    /** What the gateway needs of a valid request. */
    record ChatRequest(ApiKind kind, ObjectNode body, String model, boolean stream, boolean includeUsage) {
    }

    private final ObjectMapper json;

    ChatRequestReader(ObjectMapper json) {
        this.json = json;
    }

    /** Parses and checks; {@code modelFromPath} (Azure-style routes) overrides a missing body model. */
    ChatRequest read(ByteBuf content, String modelFromPath, ApiKind kind) {
        if (!content.isReadable()) {
            throw ApiError.badRequest("Request body is empty (expected a JSON object with \"model\" and \"messages\")", null);
        }
        JsonNode root;
        try (ByteBufInputStream in = new ByteBufInputStream(content.duplicate())) {
            root = json.readTree((java.io.InputStream) in);
        } catch (StreamConstraintsException e) {
            throw ApiError.badRequest("Request body is too deeply nested or too large a value: " + e.getOriginalMessage(), null);
        } catch (JsonParseException e) {
            var loc = e.getLocation();
            throw ApiError.badRequest("Malformed JSON in request body at line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + ": " + e.getOriginalMessage(), null);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("Malformed JSON in request body: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw ApiError.badRequest("Unreadable request body: " + e.getMessage(), null);
        }
        if (root == null || root.isMissingNode()) {
            throw ApiError.badRequest("Request body is empty (expected a JSON object with \"model\" and \"messages\")", null);
        }
        if (!(root instanceof ObjectNode body)) {
            throw ApiError.badRequest("Request body must be a JSON object, got " + kind(root), null);
        }

        JsonNode modelNode = body.get("model");
        String model;
        if (modelNode == null || modelNode.isNull()) {
            if (modelFromPath == null) {
                throw ApiError.badRequest("Missing required parameter: 'model'", "model");
            }
            model = modelFromPath;
        } else if (!modelNode.isTextual()) {
            throw typeError("model", "a string", modelNode);
        } else {
            model = modelNode.textValue();
            if (model.isEmpty()) {
                throw ApiError.badRequest("'model' is empty (expected a model name; GET /v1/models lists them)", "model");
            }
        }

        switch (kind) {
            case CHAT -> checkMessages(body.get("messages"));
            case COMPLETION -> checkTextInput(body, "prompt");
            case EMBEDDING -> {
                checkTextInput(body, "input");
                JsonNode s = body.get("stream");
                if (s != null && s.asBoolean(false)) {
                    throw ApiError.badRequest("'stream' is not supported for embeddings", "stream");
                }
            }
        }

        for (String f : NUMBER_FIELDS) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !v.isNumber()) {
                throw typeError(f, "a number", v);
            }
        }
        for (String f : INTEGER_FIELDS) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !v.canConvertToExactIntegral()) {
                throw typeError(f, "an integer", v);
            }
        }
        for (String f : OBJECT_FIELDS) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !v.isObject()) {
                throw typeError(f, "an object", v);
            }
        }
        JsonNode stop = body.get("stop");
        if (stop != null && !stop.isNull() && !stop.isTextual()) {
            if (!stop.isArray()) {
                throw typeError("stop", "a string or an array of strings", stop);
            }
            for (int i = 0; i < stop.size(); i++) {
                if (!stop.get(i).isTextual()) {
                    throw typeError("stop[" + i + "]", "a string", stop.get(i));
                }
            }
        }
        JsonNode user = body.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) {
            throw typeError("user", "a string", user);
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull()) {
            if (!tools.isArray()) {
                throw typeError("tools", "an array", tools);
            }
            for (int i = 0; i < tools.size(); i++) {
                if (!tools.get(i).isObject()) {
                    throw typeError("tools[" + i + "]", "an object", tools.get(i));
                }
            }
        }
        JsonNode toolChoice = body.get("tool_choice");
        if (toolChoice != null && !toolChoice.isNull() && !toolChoice.isTextual() && !toolChoice.isObject()) {
            throw typeError("tool_choice", "a string or an object", toolChoice);
        }

        boolean stream = false;
        JsonNode streamNode = body.get("stream");
        if (streamNode != null && !streamNode.isNull()) {
            if (!streamNode.isBoolean()) {
                throw typeError("stream", "true or false", streamNode);
            }
            stream = streamNode.booleanValue();
        }
        boolean includeUsage = false;
        JsonNode streamOptions = body.get("stream_options");
        if (streamOptions != null && !streamOptions.isNull()) {
            if (!stream) {
                throw ApiError.badRequest("'stream_options' is only allowed when 'stream' is true", "stream_options");
            }
            JsonNode iu = streamOptions.get("include_usage");
            if (iu != null && !iu.isNull()) {
                if (!iu.isBoolean()) {
                    throw typeError("stream_options.include_usage", "true or false", iu);
                }
                includeUsage = iu.booleanValue();
            }
        }
        return new ChatRequest(kind, body, model, stream, includeUsage);
    }

    /** {@code prompt} / {@code input}: a string, an array of strings, or token ids (arrays of integers). */
    private static void checkTextInput(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            throw ApiError.badRequest("Missing required parameter: '" + field + "'", field);
        }
        if (v.isTextual()) {
            return;
        }
        if (!v.isArray()) {
            throw typeError(field, "a string or an array of strings", v);
        }
        if (v.isEmpty()) {
            throw ApiError.badRequest("'" + field + "' is empty (expected at least one input)", field);
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            boolean tokens = e.isArray() && java.util.stream.StreamSupport.stream(e.spliterator(), false).allMatch(JsonNode::isInt);
            if (!e.isTextual() && !e.isInt() && !tokens) {
                throw typeError(field + "[" + i + "]", "a string or token ids", e);
            }
        }
    }

    private static void checkMessages(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw ApiError.badRequest("Missing required parameter: 'messages'", "messages");
        }
        if (!messages.isArray()) {
            throw typeError("messages", "an array of messages", messages);
        }
        if (messages.isEmpty()) {
            throw ApiError.badRequest("'messages' is empty (expected at least one message)", "messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw typeError(at, "an object with \"role\" and \"content\"", m);
            }
            JsonNode role = m.get("role");
            if (role == null || role.isNull()) {
                throw ApiError.badRequest("Missing required parameter: '" + at + ".role'", at + ".role");
            }
            if (!role.isTextual() || !ROLES.contains(role.textValue())) {
                throw typeError(at + ".role", "one of " + new java.util.TreeSet<>(ROLES), role);
            }
            JsonNode content = m.get("content");
            if (content != null && !content.isNull() && !content.isTextual()) {
                if (!content.isArray()) {
                    throw typeError(at + ".content", "a string or an array of content parts", content);
                }
                for (int p = 0; p < content.size(); p++) {
                    JsonNode part = content.get(p);
                    if (!part.isObject() || !part.path("type").isTextual()) {
                        throw typeError(at + ".content[" + p + "]", "an object with a string \"type\"", part);
                    }
                }
            }
            JsonNode name = m.get("name");
            if (name != null && !name.isNull() && !name.isTextual()) {
                throw typeError(at + ".name", "a string", name);
            }
        }
    }

    private static ApiError typeError(String field, String expected, JsonNode got) {
        return ApiError.badRequest("Invalid type for '" + field + "': expected " + expected + ", got " + kind(got), field);
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
