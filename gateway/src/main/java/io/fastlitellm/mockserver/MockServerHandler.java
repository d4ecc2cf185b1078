package io.fastlitellm.mockserver;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.provider.OpenAiWire;
import io.fastlitellm.provider.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Answers one connection's requests for {@link MockServer}; confined to its event loop. */
final class MockServerHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String DEFAULT_RESPONSE = "Hello from the fast-litellm mock server.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MockServer server;

    MockServerHandler(MockServer server) {
        this.server = server;
    }

    /** How one request asked to be answered. */
    private record Steer(long latencyMs, int status, long retryAfter, String response, int chunks,
                         long chunkIntervalMs, int cutAfter, String finishReason) {
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        server.requests.incrementAndGet();
        Map<String, String> headers = new LinkedHashMap<>();
        req.headers().forEach(e -> headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
        String body = req.content().toString(StandardCharsets.UTF_8);
        server.record(new MockServer.RecordedRequest(req.method().name(), req.uri(), Map.copyOf(headers), body));
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        String path = new QueryStringDecoder(req.uri()).path();

        if (path.equals("/mock/stats")) {
            send(ctx, keepAlive, 200, Unpooled.copiedBuffer("{\"connections_opened\":" + server.connections.get()
                    + ",\"connections_open\":" + server.openConnections.get()
                    + ",\"requests\":" + server.requests.get() + "}", StandardCharsets.UTF_8), null);
            return;
        }
        Steer steer;
        JsonNode json;
        try {
            steer = new Steer(
                    longHeader(headers, "x-mock-latency-ms", server.defaultLatencyMs),
                    (int) longHeader(headers, "x-mock-status", 0),
                    longHeader(headers, "x-mock-retry-after", 0),
                    headers.getOrDefault("x-mock-response", DEFAULT_RESPONSE),
                    (int) longHeader(headers, "x-mock-chunks", 0),
                    longHeader(headers, "x-mock-chunk-interval-ms", 0),
                    (int) longHeader(headers, "x-mock-cut-after", -1),
                    headers.getOrDefault("x-mock-finish-reason", "stop"));
            json = body.isEmpty() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (Exception e) {
            send(ctx, keepAlive, 400, OpenAiWire.error(ctx.alloc(), 400, "invalid_request_error",
                    "mock server: bad request: " + e.getMessage(), null), null);
            return;
        }
        boolean anthropic = path.equals("/v1/messages");
        Runnable answer;
        if (steer.status() != 0) {
            answer = () -> fail(ctx, keepAlive, steer, anthropic);
        } else if (anthropic) {
            answer = () -> anthropic(ctx, keepAlive, steer, json);
        } else if (path.endsWith("/chat/completions")) {
            answer = () -> chat(ctx, keepAlive, steer, json);
        } else if (path.endsWith("/embeddings")) {
            answer = () -> embeddings(ctx, keepAlive, json);
        } else if (path.endsWith("/completions")) {
            answer = () -> completion(ctx, keepAlive, steer, json);
        } else {
            send(ctx, keepAlive, 404, OpenAiWire.error(ctx.alloc(), 404, "not_found_error",
                    "mock server: no route for " + path, null), null);
            return;
        }
        if (steer.latencyMs() > 0) {
            ctx.executor().schedule(answer, steer.latencyMs(), TimeUnit.MILLISECONDS);
        } else {
            answer.run();
        }
    }

    private void fail(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, boolean anthropic) {
        String message = "mock server failing with status " + steer.status() + " as asked (x-mock-status)";
        ByteBuf body;
        if (anthropic) {
            body = OpenAiWire.write(ctx.alloc(), 128, g -> {
                g.writeStartObject();
                g.writeStringField("type", "error");
                g.writeObjectFieldStart("error");
                g.writeStringField("type", steer.status() == 429 ? "rate_limit_error" : "api_error");
                g.writeStringField("message", message);
                g.writeEndObject();
                g.writeEndObject();
            });
        } else {
            body = OpenAiWire.error(ctx.alloc(), steer.status(), steer.status() == 429 ? "rate_limit_error" : "api_error",
                    message, null);
        }
        send(ctx, keepAlive, steer.status(), body, steer.retryAfter() > 0 ? Long.toString(steer.retryAfter()) : null);
    }

    private void chat(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, JsonNode req) {
        String model = req.path("model").asText("mock");
        String id = "chatcmpl-mockserver-" + server.requests.get();
        long created = System.currentTimeMillis() / 1000;
        Usage usage = new Usage(words(req.path("messages")), words(steer.response()));
        if (!req.path("stream").asBoolean(false)) {
            send(ctx, keepAlive, 200, OpenAiWire.chatCompletion(ctx.alloc(), id, created, model, steer.response(), steer.finishReason(), usage), null);
            return;
        }
        boolean includeUsage = req.path("stream_options").path("include_usage").asBoolean(false);
        List<ByteBuf> events = new ArrayList<>();
        events.add(OpenAiWire.chunk(ctx.alloc(), id, created, model, "assistant", "", null, includeUsage));
        for (String piece : pieces(steer.response(), steer.chunks())) {
            events.add(OpenAiWire.chunk(ctx.alloc(), id, created, model, null, piece, null, includeUsage));
        }
        events.add(OpenAiWire.chunk(ctx.alloc(), id, created, model, null, null, "stop", includeUsage));
        if (includeUsage) {
            events.add(OpenAiWire.usageChunk(ctx.alloc(), id, created, model, usage));
        }
        List<String> framed = new ArrayList<>();
        for (ByteBuf e : events) {
            framed.add("data: " + e.toString(StandardCharsets.UTF_8) + "\n\n");
            e.release();
        }
        framed.add("data: [DONE]\n\n");
        stream(ctx, keepAlive, steer, framed);
    }

    private void anthropic(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, JsonNode req) {
        String model = req.path("model").asText("mock");
        String id = "msg_mockserver_" + server.requests.get();
        long input = words(req.path("messages")) + words(req.path("system"));
        long output = words(steer.response());
        if (!req.path("stream").asBoolean(false)) {
            send(ctx, keepAlive, 200, OpenAiWire.write(ctx.alloc(), 256, g -> {
                g.writeStartObject();
                g.writeStringField("id", id);
                g.writeStringField("type", "message");
                g.writeStringField("role", "assistant");
                g.writeStringField("model", model);
                g.writeArrayFieldStart("content");
                g.writeStartObject();
                g.writeStringField("type", "text");
                g.writeStringField("text", steer.response());
                g.writeEndObject();
                g.writeEndArray();
                g.writeStringField("stop_reason", "end_turn");
                g.writeNullField("stop_sequence");
                g.writeObjectFieldStart("usage");
                g.writeNumberField("input_tokens", input);
                g.writeNumberField("output_tokens", output);
                g.writeEndObject();
                g.writeEndObject();
            }), null);
            return;
        }
        List<String> framed = new ArrayList<>();
        framed.add(event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id
                + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + quote(model)
                + ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":" + input
                + ",\"output_tokens\":1}}}"));
        framed.add(event("content_block_start",
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
        framed.add(event("ping", "{\"type\":\"ping\"}"));
        for (String piece : pieces(steer.response(), steer.chunks())) {
            framed.add(event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
                    + quote(piece) + "}}"));
        }
        framed.add(event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
        framed.add(event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
                + "\"usage\":{\"output_tokens\":" + output + "}}"));
        framed.add(event("message_stop", "{\"type\":\"message_stop\"}"));
        stream(ctx, keepAlive, steer, framed);
    }

    private void completion(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, JsonNode req) {
        String model = req.path("model").asText("mock");
        long prompt = words(req.path("prompt"));
        long completion = words(steer.response());
        send(ctx, keepAlive, 200, OpenAiWire.write(ctx.alloc(), 256, g -> {
            g.writeStartObject();
            g.writeStringField("id", "cmpl-mockserver-" + server.requests.get());
            g.writeStringField("object", "text_completion");
            g.writeNumberField("created", System.currentTimeMillis() / 1000);
            g.writeStringField("model", model);
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeStringField("text", steer.response());
            g.writeNumberField("index", 0);
            g.writeNullField("logprobs");
            g.writeStringField("finish_reason", "stop");
            g.writeEndObject();
            g.writeEndArray();
            usage(g, prompt, completion);
            g.writeEndObject();
        }), null);
    }

    private void embeddings(ChannelHandlerContext ctx, boolean keepAlive, JsonNode req) {
        String model = req.path("model").asText("mock");
        JsonNode input = req.path("input");
        List<String> inputs = new ArrayList<>();
        if (input.isArray()) {
            input.forEach(i -> inputs.add(i.toString()));
        } else {
            inputs.add(input.asText());
        }
        int dims = req.path("dimensions").asInt(8);
        send(ctx, keepAlive, 200, OpenAiWire.write(ctx.alloc(), 256, g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            long tokens = 0;
            for (int i = 0; i < inputs.size(); i++) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeNumberField("index", i);
                g.writeArrayFieldStart("embedding");
                long h = inputs.get(i).hashCode();
                for (int d = 0; d < dims; d++) {
                    h = h * 6364136223846793005L + 1442695040888963407L;
                    g.writeNumber((double) (h >>> 40) / (1L << 24) - 0.5);
                }
                g.writeEndArray();
                g.writeEndObject();
                tokens += words(inputs.get(i));
            }
            g.writeEndArray();
            g.writeStringField("model", model);
            usage(g, tokens, 0);
            g.writeEndObject();
        }), null);
    }

    private static void usage(JsonGenerator g, long prompt, long completion) throws java.io.IOException {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", prompt);
        if (completion > 0) {
            g.writeNumberField("completion_tokens", completion);
        }
        g.writeNumberField("total_tokens", prompt + completion);
        g.writeEndObject();
    }

    /** Sends SSE events one by one, {@code chunkIntervalMs} apart, cutting the connection if asked. */
    private void stream(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, List<String> events) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
        HttpUtil.setTransferEncodingChunked(head, true);
        HttpUtil.setKeepAlive(head, keepAlive);
        ctx.writeAndFlush(head);
        sendEvent(ctx, keepAlive, steer, events, 0);
    }

    private void sendEvent(ChannelHandlerContext ctx, boolean keepAlive, Steer steer, List<String> events, int i) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (steer.cutAfter() >= 0 && i >= steer.cutAfter()) {
            ctx.close();
            return;
        }
        if (i == events.size()) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                    .addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(events.get(i), StandardCharsets.UTF_8)));
        if (steer.chunkIntervalMs() > 0) {
            ctx.executor().schedule(() -> sendEvent(ctx, keepAlive, steer, events, i + 1), steer.chunkIntervalMs(), TimeUnit.MILLISECONDS);
        } else {
            sendEvent(ctx, keepAlive, steer, events, i + 1);
        }
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, int status, ByteBuf body, String retryAfter) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        if (retryAfter != null) {
            res.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        HttpUtil.setContentLength(res, body.readableBytes());
        HttpUtil.setKeepAlive(res, keepAlive);
        ctx.writeAndFlush(res).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
    }

    private static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whitespace-separated words in every string below {@code node}: the mock's token count. */
    static long words(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return 0;
        }
        if (node.isTextual()) {
            return words(node.textValue());
        }
        long n = 0;
        for (JsonNode child : node) {
            n += words(child);
        }
        return n;
    }

    static long words(String s) {
        String t = s.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    static List<String> pieces(String text, int n) {
        return io.fastlitellm.provider.MockProvider.pieces(text, n);
    }

    private static long longHeader(Map<String, String> headers, String name, long fallback) {
        String v = headers.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": \"" + v + "\" (expected: an integer)");
        }
    }
}
