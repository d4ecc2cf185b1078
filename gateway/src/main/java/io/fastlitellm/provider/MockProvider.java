package io.fastlitellm.provider;

import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.MockSettings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The {@code mock} provider: answers locally, on the caller's event loop, exactly as its
 * deployment's {@code mock_*} settings say ({@link MockSettings}), for demos, tests and
 * benchmarks. It goes through the same contract as a network provider: answers arrive later,
 * never inside {@link #chat}; failures carry a status and a message naming the deployment; a
 * cancelled stream stops at once and schedules nothing more.
 *
 * <p>Thread-safety: one instance serves every event loop; per-call state lives in the call. The
 * random source is shared and must be thread-safe when more than one event loop uses it.
 */
public final class MockProvider implements Provider {
    private final RandomGenerator random;
    private final TextTokenCounter tokens;
    private final ByteBufAllocator alloc;

    public MockProvider(RandomGenerator random, TextTokenCounter tokens, ByteBufAllocator alloc) {
        this.random = random;
        this.tokens = tokens;
        this.alloc = alloc;
    }

    @Override
    public Cancellable chat(ChatCall call, ChatSink sink) {
        DeploymentConfig d = call.deployment();
        MockSettings m = d.mock();
        MockCall state = new MockCall(call, sink, m);
        ProviderError failure = failure(d, m);
        state.schedule(m.latencyMs(), failure != null ? () -> state.fail(failure) : state::answer);
        return state;
    }

    private ProviderError failure(DeploymentConfig d, MockSettings m) {
        boolean fails = m.alwaysFails() || (m.failureRate() > 0 && random.nextDouble() < m.failureRate());
        if (!fails) {
            return null;
        }
        int status = m.status() != 0 ? m.status() : 500;
        return new ProviderError(status, errorType(status),
                "mock deployment " + d.id() + " (model group " + d.modelName() + ") failed with status "
                        + status + " as configured (mock_status/mock_failure_rate)",
                m.retryAfterSeconds());
    }

    static String errorType(int status) {
        return switch (status) {
            case 400, 404, 413, 422 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 408 -> "timeout";
            case 429 -> "rate_limit_error";
            default -> "api_error";
        };
    }

    /** Splits {@code text} into the pieces a stream sends: one per word, or {@code n} near-equal parts. */
    public static List<String> pieces(String text, int n) {
        List<String> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        if (n <= 0) {
            // One piece per word with its leading whitespace, as real tokens often are (" word").
            int start = 0;
            for (int i = 1; i < text.length(); i++) {
                if (Character.isWhitespace(text.charAt(i)) && !Character.isWhitespace(text.charAt(i - 1))) {
                    out.add(text.substring(start, i));
                    start = i;
                }
            }
            out.add(text.substring(start));
            return out;
        }
        int codePoints = text.codePointCount(0, text.length());
        int parts = Math.min(n, codePoints);
        int begin = 0;
        for (int p = 0; p < parts; p++) {
            int take = codePoints / parts + (p < codePoints % parts ? 1 : 0);
            int end = text.offsetByCodePoints(begin, take);
            out.add(text.substring(begin, end));
            begin = end;
        }
        return out;
    }

    /** Deterministic vectors, one per input, from each input's hash: same input, same vector. */
    static List<float[]> vectors(com.fasterxml.jackson.databind.node.ObjectNode body) {
        com.fasterxml.jackson.databind.JsonNode input = body.path("input");
        List<String> inputs = new ArrayList<>();
        if (input.isArray() && !input.isEmpty() && !input.get(0).isNumber()) {
            input.forEach(i -> inputs.add(i.isTextual() ? i.textValue() : i.toString()));
        } else {
            inputs.add(input.isTextual() ? input.textValue() : input.toString());
        }
        int dims = body.path("dimensions").canConvertToInt() ? Math.max(1, Math.min(4096, body.path("dimensions").asInt())) : 8;
        List<float[]> out = new ArrayList<>(inputs.size());
        for (String s : inputs) {
            float[] v = new float[dims];
            long h = s.hashCode();
            for (int d = 0; d < dims; d++) {
                h = h * 6364136223846793005L + 1442695040888963407L;
                v[d] = (float) ((double) (h >>> 40) / (1L << 24) - 0.5);
            }
            out.add(v);
        }
        return out;
    }

    /** One call in progress; confined to its event loop. */
    private final class MockCall implements Cancellable {
        private final ChatCall call;
        private final ChatSink sink;
        private final MockSettings m;
        private final String id;
        private final long created = System.currentTimeMillis() / 1000;
        private boolean done;
        private Future<?> pending;
        private List<String> pieces;
        private int next;

        MockCall(ChatCall call, ChatSink sink, MockSettings m) {
            this.call = call;
            this.sink = sink;
            this.m = m;
            this.id = "chatcmpl-mock-" + Long.toHexString(random.nextLong());
        }

        void schedule(long delayMs, Runnable task) {
            EventExecutor ex = call.executor();
            Runnable guarded = () -> {
                if (!done) {
                    task.run();
                }
            };
            if (delayMs > 0) {
                pending = ex.schedule(guarded, delayMs, TimeUnit.MILLISECONDS);
            } else {
                pending = ex.submit(guarded);
            }
        }

        void fail(ProviderError error) {
            done = true;
            sink.onError(error);
        }

        void answer() {
            if (call.kind() == ApiKind.EMBEDDING) {
                done = true;
                Usage usage = new Usage(m.promptTokens() >= 0 ? m.promptTokens() : call.promptTokens(), 0);
                sink.onComplete(OpenAiWire.embeddings(alloc, model(), vectors(call.body()), usage.promptTokens()), usage);
                return;
            }
            if (call.kind() == ApiKind.COMPLETION && !call.stream()) {
                done = true;
                Usage usage = usage();
                sink.onComplete(OpenAiWire.textCompletion(alloc, id, created, model(), m.response(), "stop", usage), usage);
                return;
            }
            if (call.kind() == ApiKind.COMPLETION) {
                pieces = pieces(m.response(), m.streamChunks());
                streamNext();
                return;
            }
            if (!call.stream()) {
                done = true;
                Usage usage = usage();
                sink.onComplete(OpenAiWire.chatCompletion(alloc, id, created, model(), m.response(), "stop", usage), usage);
                return;
            }
            pieces = pieces(m.response(), m.streamChunks());
            sink.onStreamChunk(OpenAiWire.chunk(alloc, id, created, model(), "assistant", "", null, call.includeUsage()));
            streamNext();
        }

        private void streamNext() {
            if (call.kind() == ApiKind.COMPLETION) {
                if (next < pieces.size()) {
                    sink.onStreamChunk(OpenAiWire.textCompletion(alloc, id, created, model(), pieces.get(next++), null, null));
                    schedule(m.chunkIntervalMs(), this::streamNext);
                    return;
                }
                done = true;
                sink.onStreamChunk(OpenAiWire.textCompletion(alloc, id, created, model(), "", "stop", null));
                sink.onStreamEnd(usage());
                return;
            }
            if (next < pieces.size()) {
                sink.onStreamChunk(OpenAiWire.chunk(alloc, id, created, model(), null, pieces.get(next++), null,
                        call.includeUsage()));
                schedule(m.chunkIntervalMs(), this::streamNext);
                return;
            }
            done = true;
            sink.onStreamChunk(OpenAiWire.chunk(alloc, id, created, model(), null, null, "stop", call.includeUsage()));
            Usage usage = usage();
            if (call.includeUsage()) {
                sink.onStreamChunk(OpenAiWire.usageChunk(alloc, id, created, model(), usage));
            }
            sink.onStreamEnd(usage);
        }

        private Usage usage() {
            long prompt = m.promptTokens() >= 0 ? m.promptTokens() : call.promptTokens();
            long completion = m.completionTokens() >= 0 ? m.completionTokens()
                    : tokens.count(call.deployment().providerModel(), m.response());
            return new Usage(prompt, completion);
        }

        private String model() {
            return call.deployment().providerModel();
        }

        @Override
        public void cancel() {
            done = true;
            if (pending != null) {
                pending.cancel(false);
            }
        }
    }
}
