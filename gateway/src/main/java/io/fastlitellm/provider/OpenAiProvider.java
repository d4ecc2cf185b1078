package io.fastlitellm.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.upstream.UpstreamClient;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * OpenAI's API (chat completions, text completions, embeddings), and everything that speaks it: {@code openai/} (api.openai.com
 * or any {@code api_base}: vLLM, Ollama, LM Studio, Groq, Together, ...) and {@code azure/}
 * (deployment URLs, {@code api_version}, {@code api-key} header).
 *
 * <p>Promises: the client's body goes upstream with {@code model} set to the deployment's model;
 * a non-streaming answer is passed through as received; a stream is relayed event by event as it
 * arrives (never buffered whole), with {@code include_usage} always asked of the upstream so usage
 * can be accounted, and the usage-only chunk withheld from clients that did not ask for it.
 */
public final class OpenAiProvider implements Provider {
    /** Which URL and auth scheme to use. */
    public enum Flavor { OPENAI, AZURE }

    private static final String OPENAI_BASE = "https://api.openai.com/v1";
    private static final String DEFAULT_AZURE_API_VERSION = "2024-10-21";

    private final UpstreamClient client;
    private final Flavor flavor;
    private final String defaultBase;

    /** @param defaultBase the base URL when a deployment has no {@code api_base} (null: it must have one) */
    public OpenAiProvider(UpstreamClient client, Flavor flavor, String defaultBase) {
        this.client = client;
        this.flavor = flavor;
        this.defaultBase = defaultBase;
    }

    /** OpenAI itself, at api.openai.com unless {@code api_base} says otherwise. */
    public static OpenAiProvider openAi(UpstreamClient client) {
        return new OpenAiProvider(client, Flavor.OPENAI, OPENAI_BASE);
    }

    @Override
    public Cancellable chat(ChatCall call, ChatSink sink) {
        DeploymentConfig d = call.deployment();
        ObjectNode body = call.body().deepCopy();
        body.put("model", d.providerModel());
        // The proxy's own request metadata (tags, trace ids) is not the provider's business.
        body.remove("metadata");
        if (call.stream()) {
            // Ask for usage whatever the client asked, to account for tokens; withheld below if unasked.
            ObjectNode options = body.has("stream_options") && body.get("stream_options").isObject()
                    ? (ObjectNode) body.get("stream_options") : body.putObject("stream_options");
            options.put("include_usage", true);
        }
        HttpHeaders headers = ProviderSupport.baseHeaders(d);
        String key = ProviderSupport.param(d, "api_key");
        URI uri;
        if (flavor == Flavor.AZURE) {
            if (d.apiBase() == null) {
                return ProviderSupport.failLater(call, sink, new ProviderError(400, "invalid_request_error",
                        ProviderSupport.who(d) + ": azure deployments need litellm_params.api_base", 0));
            }
            String version = ProviderSupport.param(d, "api_version");
            uri = URI.create(ProviderSupport.base(d, null) + "/openai/deployments/"
                    + URLEncoder.encode(d.providerModel(), StandardCharsets.UTF_8) + call.kind().path() + "?api-version="
                    + URLEncoder.encode(version != null ? version : DEFAULT_AZURE_API_VERSION, StandardCharsets.UTF_8));
            if (key != null) {
                headers.set("api-key", key);
            }
        } else {
            if (d.apiBase() == null && defaultBase == null) {
                return ProviderSupport.failLater(call, sink, new ProviderError(400, "invalid_request_error",
                        ProviderSupport.who(d) + ": provider '" + d.provider() + "' needs litellm_params.api_base", 0));
            }
            uri = URI.create(ProviderSupport.base(d, defaultBase) + call.kind().path());
            if (key != null) {
                headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + key);
            }
            String org = ProviderSupport.param(d, "organization");
            if (org != null) {
                headers.set("OpenAI-Organization", org);
            }
        }
        return new Relay(call, sink).start(client, ProviderSupport.request(call, uri, headers, body));
    }

    /** Relays an OpenAI-shaped answer; confined to the call's event loop. */
    private static final class Relay extends HttpRelay {
        Usage usage;

        Relay(ChatCall call, ChatSink sink) {
            super(call, sink);
        }

        @Override
        void onWholeBody(ByteBuf body) {
            Usage u = ProviderSupport.usage(body);
            sink.onComplete(body, u != null ? u : new Usage(call.promptTokens(), 0));
        }

        @Override
        void onStreamBodyEnd() {
            end(usage != null ? usage : new Usage(call.promptTokens(), 0));
        }

        @Override
        public void onEvent(String event, ByteBuf data) {
            if (ignoring()) {
                data.release();
                return;
            }
            if (data.readableBytes() == 6 && data.toString(StandardCharsets.US_ASCII).equals("[DONE]")) {
                data.release();
                return; // the end of the response body ends the stream for the sink
            }
            Usage u = hasUsage(data) ? ProviderSupport.usage(data) : null;
            if (u != null) {
                usage = u;
                if (!call.includeUsage() && isUsageOnly(data)) {
                    data.release();
                    return;
                }
            }
            sink.onStreamChunk(data);
        }

        /** Cheap pre-check so most chunks skip the JSON parse: a non-null usage object is present. */
        private static boolean hasUsage(ByteBuf data) {
            return indexOf(data, "\"usage\":{") >= 0 || indexOf(data, "\"usage\": {") >= 0;
        }

        private static boolean isUsageOnly(ByteBuf data) {
            return indexOf(data, "\"choices\":[]") >= 0 || indexOf(data, "\"choices\": []") >= 0;
        }

        private static int indexOf(ByteBuf buf, String needle) {
            int n = needle.length();
            int end = buf.writerIndex() - n;
            outer:
            for (int i = buf.readerIndex(); i <= end; i++) {
                for (int j = 0; j < n; j++) {
                    if (buf.getByte(i + j) != needle.charAt(j)) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
