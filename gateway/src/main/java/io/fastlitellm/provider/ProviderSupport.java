package io.fastlitellm.provider;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.upstream.UpstreamFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What the HTTP providers share: headers, timeouts, error mapping and usage extraction. */
final class ProviderSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();
    static final long DEFAULT_TIMEOUT_MS = 600_000;

    private ProviderSupport() {
    }

    /** JSON content type plus {@code litellm_params.extra_headers}. */
    static HttpHeaders baseHeaders(DeploymentConfig d) {
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        h.set(HttpHeaderNames.ACCEPT, "application/json");
        if (d.litellmParams().get("extra_headers") instanceof Map<?, ?> extra) {
            extra.forEach((k, v) -> h.set(String.valueOf(k), String.valueOf(v)));
        }
        return h;
    }

    static String param(DeploymentConfig d, String key) {
        Object v = d.litellmParams().get(key);
        return v == null ? null : String.valueOf(v);
    }

    /** The upstream request for a chat call: {@code body} as JSON, timeouts from the deployment. */
    static io.fastlitellm.upstream.UpstreamRequest request(ChatCall call, java.net.URI uri, HttpHeaders headers,
                                                           com.fasterxml.jackson.databind.JsonNode body) {
        ByteBuf payload = io.netty.buffer.PooledByteBufAllocator.DEFAULT.buffer();
        try {
            JSON.writeValue((java.io.OutputStream) new io.netty.buffer.ByteBufOutputStream(payload), body);
        } catch (IOException e) {
            payload.release();
            throw new java.io.UncheckedIOException(e);
        }
        DeploymentConfig d = call.deployment();
        long total = totalTimeoutMs(d);
        long perWait = call.stream() ? streamTimeoutMs(d) : total;
        return new io.fastlitellm.upstream.UpstreamRequest(io.netty.handler.codec.http.HttpMethod.POST, uri, headers,
                payload, perWait, call.stream() ? perWait : 0, call.stream() ? 0 : total);
    }

    /** A call that fails before anything is sent; the error still arrives later, never inside chat(). */
    static Provider.Cancellable failLater(ChatCall call, ChatSink sink, ProviderError error) {
        call.executor().execute(() -> sink.onError(error));
        return () -> { };
    }

    /** {@code timeout} (whole call, LiteLLM's default 600 s) in milliseconds. */
    static long totalTimeoutMs(DeploymentConfig d) {
        return d.timeoutSeconds() != null ? (long) (d.timeoutSeconds() * 1000) : DEFAULT_TIMEOUT_MS;
    }

    /** {@code stream_timeout}, else {@code timeout}: the budget for each wait while streaming. */
    static long streamTimeoutMs(DeploymentConfig d) {
        Object v = d.litellmParams().get("stream_timeout");
        if (v instanceof Number n) {
            return (long) (n.doubleValue() * 1000);
        }
        return totalTimeoutMs(d);
    }

    static String base(DeploymentConfig d, String fallback) {
        String b = d.apiBase() != null ? d.apiBase() : fallback;
        return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    }

    static String who(DeploymentConfig d) {
        return "deployment " + d.id() + " (model group " + d.modelName() + ", " + d.model() + ")";
    }

    static ProviderError failure(DeploymentConfig d, UpstreamFailure f) {
        int status = f.kind().status();
        String type = status == 408 ? "timeout" : status == 503 ? "service_unavailable" : "api_connection_error";
        return new ProviderError(status, type, who(d) + ": " + f.message(), 0);
    }

    /** An upstream error answer, keeping its status, Retry-After and message. */
    static ProviderError upstreamError(DeploymentConfig d, int status, HttpHeaders headers, ByteBuf body) {
        String message = null;
        String type = null;
        try {
            JsonNode n = JSON.readTree((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
            JsonNode err = n == null ? null : n.path("error");
            if (err != null && err.isObject()) {
                message = err.path("message").asText(null);
                type = err.path("type").asText(null);
            } else if (err != null && err.isTextual()) {
                message = err.asText();
            }
        } catch (IOException | RuntimeException notJson) {
            // Fall back to the raw text below.
        }
        if (message == null) {
            String raw = body.toString(StandardCharsets.UTF_8);
            message = raw.length() > 500 ? raw.substring(0, 500) + "..." : raw;
        }
        if (type == null) {
            type = MockProvider.errorType(status);
        }
        return new ProviderError(status, type, who(d) + " answered " + status + ": " + message, retryAfter(headers));
    }

    static long retryAfter(HttpHeaders headers) {
        String v = headers.get(HttpHeaderNames.RETRY_AFTER);
        if (v == null) {
            return 0;
        }
        try {
            return Math.max(0, (long) Math.ceil(Double.parseDouble(v.trim())));
        } catch (NumberFormatException httpDate) {
            return 0;
        }
    }

    /**
     * Reads {@code usage.prompt_tokens} and {@code usage.completion_tokens} (or Anthropic's
     * {@code input_tokens}/{@code output_tokens}) from a JSON object with a streaming parser,
     * without building a tree; null when the object has no usage object.
     */
    static Usage usage(ByteBuf json) {
        try (JsonParser p = FACTORY.createParser((java.io.InputStream) new ByteBufInputStream(json.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("usage".equals(name) && t == JsonToken.START_OBJECT) {
                    long prompt = 0;
                    long completion = 0;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        if (v == JsonToken.VALUE_NUMBER_INT) {
                            switch (f) {
                                case "prompt_tokens", "input_tokens" -> prompt = p.getLongValue();
                                case "completion_tokens", "output_tokens" -> completion = p.getLongValue();
                                default -> { }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    return new Usage(prompt, completion);
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
