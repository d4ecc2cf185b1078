package io.fastlitellm.provider;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes OpenAI's wire format (chat completions, stream chunks, errors) straight into Netty
 * buffers with Jackson's streaming generator: no intermediate tree, one buffer per object.
 */
public final class OpenAiWire {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private OpenAiWire() {
    }

    /** A {@code chat.completion} object with one assistant choice. */
    public static ByteBuf chatCompletion(ByteBufAllocator alloc, String id, long created, String model,
                                         String content, String finishReason, Usage usage) {
        return write(alloc, 256 + content.length() * 2, g -> {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("object", "chat.completion");
            g.writeNumberField("created", created);
            g.writeStringField("model", model);
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("message");
            g.writeStringField("role", "assistant");
            g.writeStringField("content", content);
            g.writeEndObject();
            g.writeStringField("finish_reason", finishReason);
            g.writeEndObject();
            g.writeEndArray();
            writeUsage(g, usage);
            g.writeEndObject();
        });
    }

    /**
     * A {@code chat.completion.chunk}. {@code role} and {@code content} go into the delta when not
     * null; {@code finishReason} null writes {@code null}. With {@code usageField} the chunk carries
     * {@code "usage": null}, as OpenAI's do when {@code include_usage} is set.
     */
    public static ByteBuf chunk(ByteBufAllocator alloc, String id, long created, String model,
                                String role, String content, String finishReason, boolean usageField) {
        return write(alloc, 192 + (content == null ? 0 : content.length() * 2), g -> {
            chunkHead(g, id, created, model);
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
            g.writeEndObject();
            g.writeStringField("finish_reason", finishReason);
            g.writeEndObject();
            g.writeEndArray();
            if (usageField) {
                g.writeNullField("usage");
            }
            g.writeEndObject();
        });
    }

    /** The last chunk of a stream with {@code include_usage}: no choices, the usage. */
    public static ByteBuf usageChunk(ByteBufAllocator alloc, String id, long created, String model, Usage usage) {
        return write(alloc, 256, g -> {
            chunkHead(g, id, created, model);
            g.writeArrayFieldStart("choices");
            g.writeEndArray();
            writeUsage(g, usage);
            g.writeEndObject();
        });
    }

    /** {@code {"error": {"message", "type", "param", "code"}}}, OpenAI's error shape; code is the status. */
    public static ByteBuf error(ByteBufAllocator alloc, int status, String type, String message, String param) {
        return write(alloc, 128 + message.length() * 2, g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", message);
            g.writeStringField("type", type);
            g.writeStringField("param", param);
            g.writeStringField("code", Integer.toString(status));
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** A {@code text_completion} object with one choice (the legacy completions API). */
    public static ByteBuf textCompletion(ByteBufAllocator alloc, String id, long created, String model,
                                         String text, String finishReason, Usage usage) {
        return write(alloc, 256 + (text == null ? 0 : text.length() * 2), g -> {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("object", "text_completion");
            g.writeNumberField("created", created);
            g.writeStringField("model", model);
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeStringField("text", text == null ? "" : text);
            g.writeNumberField("index", 0);
            g.writeNullField("logprobs");
            g.writeStringField("finish_reason", finishReason);
            g.writeEndObject();
            g.writeEndArray();
            if (usage != null) {
                writeUsage(g, usage);
            }
            g.writeEndObject();
        });
    }

    /** An embeddings list: one vector per input, in order. */
    public static ByteBuf embeddings(ByteBufAllocator alloc, String model, java.util.List<float[]> vectors, long promptTokens) {
        return write(alloc, 128 + vectors.size() * 64, g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < vectors.size(); i++) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeNumberField("index", i);
                g.writeArrayFieldStart("embedding");
                for (float f : vectors.get(i)) {
                    g.writeNumber(f);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", model);
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", promptTokens);
            g.writeNumberField("total_tokens", promptTokens);
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** Writes one JSON value into a new buffer; the buffer is released if writing fails. */
    public static ByteBuf write(ByteBufAllocator alloc, int initialCapacity, JsonWriter writer) {
        ByteBuf buf = alloc.buffer(initialCapacity);
        try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(buf))) {
            writer.write(g);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        return buf;
    }

    /** Writes one JSON value with a streaming generator. */
    @FunctionalInterface
    public interface JsonWriter {
        void write(JsonGenerator g) throws IOException;
    }

    private static void chunkHead(JsonGenerator g, String id, long created, String model) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", id);
        g.writeStringField("object", "chat.completion.chunk");
        g.writeNumberField("created", created);
        g.writeStringField("model", model);
    }

    static void writeUsage(JsonGenerator g, Usage usage) throws IOException {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", usage.promptTokens());
        g.writeNumberField("completion_tokens", usage.completionTokens());
        g.writeNumberField("total_tokens", usage.totalTokens());
        g.writeEndObject();
    }
}
