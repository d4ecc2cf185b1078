package io.fastlitellm.provider;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.upstream.UpstreamClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Set;

/**
 * Anthropic's Messages API behind the OpenAI chat completions shape, translated both ways as
 * LiteLLM translates it: system prompts, multi-part content and images, tools and tool calls,
 * {@code stop} sequences, the {@code max_tokens} default (4096), usage, stop reasons to
 * {@code finish_reason}, and streaming events to {@code chat.completion.chunk}s.
 *
 * <p>OpenAI parameters Anthropic does not take are a 400 naming them, or dropped when
 * {@code drop_params} is set (in {@code litellm_settings} or the deployment's {@code litellm_params}).
 */
public final class AnthropicProvider implements Provider {
    static final String BASE = "https://api.anthropic.com";
    static final String VERSION = "2023-06-01";
    static final int DEFAULT_MAX_TOKENS = 4096;
    private static final Set<String> UNSUPPORTED = Set.of("presence_penalty", "frequency_penalty", "logit_bias",
            "logprobs", "top_logprobs", "seed", "response_format", "n", "parallel_tool_calls", "service_tier");

    private final UpstreamClient client;
    private final boolean dropParams;

    public AnthropicProvider(UpstreamClient client, boolean dropParams) {
        this.client = client;
        this.dropParams = dropParams;
    }

    @Override
    public Cancellable chat(ChatCall call, ChatSink sink) {
        DeploymentConfig d = call.deployment();
        if (call.kind() != ApiKind.CHAT) {
            return ProviderSupport.failLater(call, sink, new ProviderError(400, "invalid_request_error",
                    ProviderSupport.who(d) + ": anthropic serves chat completions only, not " + call.kind().path(), 0));
        }
        ObjectNode body;
        try {
            body = translateRequest(call.body(), d.providerModel(),
                    dropParams || Boolean.TRUE.equals(d.litellmParams().get("drop_params")));
        } catch (IllegalArgumentException e) {
            return ProviderSupport.failLater(call, sink,
                    new ProviderError(400, "invalid_request_error", ProviderSupport.who(d) + ": " + e.getMessage(), 0));
        }
        HttpHeaders headers = ProviderSupport.baseHeaders(d);
        String key = ProviderSupport.param(d, "api_key");
        if (key != null) {
            headers.set("x-api-key", key);
        }
        headers.set("anthropic-version", VERSION);
        URI uri = URI.create(ProviderSupport.base(d, BASE) + "/v1/messages");
        return new Relay(call, sink).start(client, ProviderSupport.request(call, uri, headers, body));
    }

    /** OpenAI chat request to an Anthropic Messages request. */
    static ObjectNode translateRequest(ObjectNode in, String model, boolean dropParams) {
        for (var it = in.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (UNSUPPORTED.contains(f) && !(f.equals("n") && in.get(f).asInt(1) == 1) && !in.get(f).isNull() && !dropParams) {
                throw new IllegalArgumentException("anthropic does not support the parameter '" + f
                        + "'; remove it, or set litellm_settings.drop_params: true to drop it");
            }
        }
        ObjectNode out = ProviderSupport.JSON.createObjectNode();
        out.put("model", model);
        JsonNode max = in.hasNonNull("max_tokens") ? in.get("max_tokens") : in.get("max_completion_tokens");
        out.put("max_tokens", max != null && max.canConvertToInt() ? max.asInt() : DEFAULT_MAX_TOKENS);
        ArrayNode system = ProviderSupport.JSON.createArrayNode();
        ArrayNode messages = out.putArray("messages");
        for (JsonNode m : in.path("messages")) {
            String role = m.path("role").asText();
            switch (role) {
                case "system", "developer" -> {
                    for (JsonNode block : contentBlocks(m.get("content"))) {
                        system.add(block);
                    }
                }
                case "user" -> append(messages, "user", contentBlocks(m.get("content")));
                case "assistant" -> {
                    ArrayNode blocks = contentBlocks(m.get("content"));
                    for (JsonNode call : m.path("tool_calls")) {
                        ObjectNode use = blocks.addObject();
                        use.put("type", "tool_use");
                        use.put("id", call.path("id").asText());
                        use.put("name", call.path("function").path("name").asText());
                        use.set("input", parseArguments(call.path("function").path("arguments").asText("{}")));
                    }
                    append(messages, "assistant", blocks);
                }
                case "tool", "function" -> {
                    ArrayNode blocks = ProviderSupport.JSON.createArrayNode();
                    ObjectNode result = blocks.addObject();
                    result.put("type", "tool_result");
                    result.put("tool_use_id", m.path("tool_call_id").asText(m.path("name").asText()));
                    JsonNode content = m.get("content");
                    result.put("content", content == null || content.isNull() ? "" : content.isTextual()
                            ? content.textValue() : joinText(content));
                    append(messages, "user", blocks);
                }
                default -> throw new IllegalArgumentException("unknown role '" + role + "'");
            }
        }
        if (!system.isEmpty()) {
            out.set("system", system);
        }
        JsonNode stop = in.get("stop");
        if (stop != null && !stop.isNull()) {
            ArrayNode seqs = out.putArray("stop_sequences");
            if (stop.isTextual()) {
                seqs.add(stop.textValue());
            } else {
                stop.forEach(seqs::add);
            }
        }
        for (String f : List.of("temperature", "top_p", "top_k")) {
            if (in.hasNonNull(f)) {
                out.set(f, in.get(f));
            }
        }
        if (in.path("stream").asBoolean(false)) {
            out.put("stream", true);
        }
        if (in.hasNonNull("user")) {
            out.putObject("metadata").put("user_id", in.get("user").asText());
        }
        JsonNode tools = in.get("tools");
        if (tools != null && tools.isArray() && !tools.isEmpty()) {
            ArrayNode outTools = out.putArray("tools");
            for (JsonNode t : tools) {
                JsonNode fn = t.path("function");
                ObjectNode o = outTools.addObject();
                o.put("name", fn.path("name").asText());
                if (fn.hasNonNull("description")) {
                    o.put("description", fn.get("description").asText());
                }
                o.set("input_schema", fn.hasNonNull("parameters") ? fn.get("parameters")
                        : ProviderSupport.JSON.createObjectNode().put("type", "object"));
            }
        }
        JsonNode choice = in.get("tool_choice");
        if (choice != null && !choice.isNull()) {
            ObjectNode c = ProviderSupport.JSON.createObjectNode();
            if (choice.isTextual()) {
                c.put("type", switch (choice.textValue()) {
                    case "required" -> "any";
                    case "none" -> "none";
                    default -> "auto";
                });
            } else {
                c.put("type", "tool");
                c.put("name", choice.path("function").path("name").asText());
            }
            out.set("tool_choice", c);
        }
        return out;
    }

    /** Consecutive messages of one role merge: Anthropic requires user and assistant to alternate. */
    private static void append(ArrayNode messages, String role, ArrayNode blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        JsonNode last = messages.isEmpty() ? null : messages.get(messages.size() - 1);
        if (last != null && role.equals(last.path("role").asText())) {
            ((ArrayNode) last.get("content")).addAll(blocks);
            return;
        }
        ObjectNode m = messages.addObject();
        m.put("role", role);
        m.set("content", blocks);
    }

    private static ArrayNode contentBlocks(JsonNode content) {
        ArrayNode blocks = ProviderSupport.JSON.createArrayNode();
        if (content == null || content.isNull()) {
            return blocks;
        }
        if (content.isTextual()) {
            if (!content.textValue().isEmpty()) {
                blocks.addObject().put("type", "text").put("text", content.textValue());
            }
            return blocks;
        }
        for (JsonNode part : content) {
            String type = part.path("type").asText();
            if (type.equals("text")) {
                blocks.addObject().put("type", "text").put("text", part.path("text").asText());
            } else if (type.equals("image_url")) {
                String url = part.path("image_url").isTextual() ? part.path("image_url").asText()
                        : part.path("image_url").path("url").asText();
                ObjectNode image = blocks.addObject();
                image.put("type", "image");
                ObjectNode source = image.putObject("source");
                if (url.startsWith("data:") && url.contains(";base64,")) {
                    source.put("type", "base64");
                    source.put("media_type", url.substring(5, url.indexOf(';')));
                    source.put("data", url.substring(url.indexOf(";base64,") + 8));
                } else {
                    source.put("type", "url");
                    source.put("url", url);
                }
            } else {
                throw new IllegalArgumentException("content part type '" + type + "' is not supported for anthropic");
            }
        }
        return blocks;
    }

    private static String joinText(JsonNode parts) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : parts) {
            sb.append(p.path("text").asText(""));
        }
        return sb.toString();
    }

    private static JsonNode parseArguments(String args) {
        try {
            JsonNode n = ProviderSupport.JSON.readTree(args.isEmpty() ? "{}" : args);
            return n == null ? ProviderSupport.JSON.createObjectNode() : n;
        } catch (IOException e) {
            throw new IllegalArgumentException("tool call arguments are not JSON: " + e.getMessage());
        }
    }

    static String finishReason(String stopReason) {
        if (stopReason == null) {
            return null;
        }
        return switch (stopReason) {
            case "max_tokens" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop";
        };
    }

    /** Anthropic message JSON to an OpenAI chat.completion; returns the buffer and sets usage. */
    static ByteBuf translateResponse(JsonNode msg, Usage[] usageOut) {
        StringBuilder text = new StringBuilder();
        boolean anyText = false;
        ArrayNode toolCalls = ProviderSupport.JSON.createArrayNode();
        for (JsonNode block : msg.path("content")) {
            switch (block.path("type").asText()) {
                case "text" -> {
                    text.append(block.path("text").asText());
                    anyText = true;
                }
                case "tool_use" -> {
                    ObjectNode tc = toolCalls.addObject();
                    tc.put("id", block.path("id").asText());
                    tc.put("type", "function");
                    ObjectNode fn = tc.putObject("function");
                    fn.put("name", block.path("name").asText());
                    fn.put("arguments", block.path("input").toString());
                }
                default -> { }
            }
        }
        Usage usage = new Usage(msg.path("usage").path("input_tokens").asLong(), msg.path("usage").path("output_tokens").asLong());
        usageOut[0] = usage;
        String content = anyText ? text.toString() : null;
        return OpenAiWire.write(PooledByteBufAllocator.DEFAULT, 256 + text.length() * 2, g -> {
            g.writeStartObject();
            g.writeStringField("id", msg.path("id").asText());
            g.writeStringField("object", "chat.completion");
            g.writeNumberField("created", System.currentTimeMillis() / 1000);
            g.writeStringField("model", msg.path("model").asText());
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("message");
            g.writeStringField("role", "assistant");
            g.writeStringField("content", content);
            if (!toolCalls.isEmpty()) {
                g.writeFieldName("tool_calls");
                g.writeTree(toolCalls);
            }
            g.writeEndObject();
            g.writeStringField("finish_reason", finishReason(msg.path("stop_reason").asText(null)));
            g.writeEndObject();
            g.writeEndArray();
            OpenAiWire.writeUsage(g, usage);
            g.writeEndObject();
        });
    }

    /** One response, translated as it arrives; confined to the call's event loop. */
    private static final class Relay extends HttpRelay {
        String id = "";
        String model = "";
        final long created = System.currentTimeMillis() / 1000;
        long inputTokens;
        long outputTokens;
        int toolIndex = -1;

        Relay(ChatCall call, ChatSink sink) {
            super(call, sink);
        }

        @Override
        void onWholeBody(ByteBuf body) {
            try {
                JsonNode msg = ProviderSupport.JSON.readTree((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
                Usage[] usage = new Usage[1];
                ByteBuf translated = translateResponse(msg, usage);
                sink.onComplete(translated, usage[0]);
            } catch (IOException e) {
                sink.onError(new ProviderError(502, "api_error", ProviderSupport.who(call.deployment())
                        + ": unreadable answer: " + e.getMessage(), 0));
            } finally {
                body.release();
            }
        }

        @Override
        void onStreamBodyEnd() {
            fail(new ProviderError(502, "api_error", ProviderSupport.who(call.deployment())
                    + ": the stream ended before message_stop", 0));
        }

        @Override
        public void onEvent(String event, ByteBuf data) {
            if (ignoring()) {
                data.release();
                return;
            }
            JsonNode e;
            try {
                e = ProviderSupport.JSON.readTree((java.io.InputStream) new ByteBufInputStream(data));
            } catch (IOException ex) {
                data.release();
                fail(new ProviderError(502, "api_error", ProviderSupport.who(call.deployment())
                        + ": unreadable stream event: " + ex.getMessage(), 0));
                return;
            }
            data.release();
            String type = e.path("type").asText(event == null ? "" : event);
            switch (type) {
                case "message_start" -> {
                    JsonNode m = e.path("message");
                    id = m.path("id").asText();
                    model = m.path("model").asText();
                    inputTokens = m.path("usage").path("input_tokens").asLong();
                    outputTokens = m.path("usage").path("output_tokens").asLong();
                    emit(g -> delta(g, "assistant", "", null, null));
                }
                case "content_block_start" -> {
                    JsonNode block = e.path("content_block");
                    if ("tool_use".equals(block.path("type").asText())) {
                        toolIndex++;
                        int index = toolIndex;
                        emit(g -> delta(g, null, null, w -> {
                            w.writeStartObject();
                            w.writeNumberField("index", index);
                            w.writeStringField("id", block.path("id").asText());
                            w.writeStringField("type", "function");
                            w.writeObjectFieldStart("function");
                            w.writeStringField("name", block.path("name").asText());
                            w.writeStringField("arguments", "");
                            w.writeEndObject();
                            w.writeEndObject();
                        }, null));
                    }
                }
                case "content_block_delta" -> {
                    JsonNode delta = e.path("delta");
                    if ("input_json_delta".equals(delta.path("type").asText())) {
                        int index = toolIndex;
                        emit(g -> delta(g, null, null, w -> {
                            w.writeStartObject();
                            w.writeNumberField("index", index);
                            w.writeObjectFieldStart("function");
                            w.writeStringField("arguments", delta.path("partial_json").asText());
                            w.writeEndObject();
                            w.writeEndObject();
                        }, null));
                    } else {
                        emit(g -> delta(g, null, delta.path("text").asText(), null, null));
                    }
                }
                case "message_delta" -> {
                    if (e.path("usage").has("output_tokens")) {
                        outputTokens = e.path("usage").path("output_tokens").asLong();
                    }
                    String finish = finishReason(e.path("delta").path("stop_reason").asText(null));
                    if (finish != null) {
                        emit(g -> delta(g, null, null, null, finish));
                    }
                }
                case "message_stop" -> {
                    Usage usage = new Usage(inputTokens, outputTokens);
                    if (call.includeUsage()) {
                        sink.onStreamChunk(OpenAiWire.usageChunk(PooledByteBufAllocator.DEFAULT, id, created, model, usage));
                    }
                    end(usage);
                }
                case "error" -> {
                    JsonNode err = e.path("error");
                    fail(new ProviderError(err.path("type").asText().equals("overloaded_error") ? 529 : 500,
                            err.path("type").asText("api_error"),
                            ProviderSupport.who(call.deployment()) + " sent an error mid-stream: " + err.path("message").asText(), 0));
                }
                default -> { } // ping, content_block_stop
            }
        }

        @FunctionalInterface
        private interface ToolCallWriter {
            void write(JsonGenerator g) throws IOException;
        }

        private void delta(JsonGenerator g, String role, String content, ToolCallWriter toolCall, String finish)
                throws IOException {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("object", "chat.completion.chunk");
            g.writeNumberField("created", created);
            g.writeStringField("model", model);
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("delta");
            if (role != null) {
                g.writeStringField("role", role);
            }
            if (content != null) {
                g.writeStringField("content", content);
            }
            if (toolCall != null) {
                g.writeArrayFieldStart("tool_calls");
                toolCall.write(g);
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeStringField("finish_reason", finish);
            g.writeEndObject();
            g.writeEndArray();
            if (call.includeUsage()) {
                g.writeNullField("usage");
            }
            g.writeEndObject();
        }

        private void emit(OpenAiWire.JsonWriter writer) {
            sink.onStreamChunk(OpenAiWire.write(PooledByteBufAllocator.DEFAULT, 256, writer));
        }
    }
}
