package io.fastlitellm.provider;

import io.netty.buffer.ByteBuf;

/**
 * Where a provider delivers one chat call's outcome. All methods are called on the event loop
 * given in {@link ChatCall#executor()}. A call ends with exactly one of {@link #onComplete},
 * {@link #onStreamEnd} or {@link #onError}; nothing is delivered after that, nor after the call
 * was cancelled. Buffers passed in are owned by the sink from then on.
 */
public interface ChatSink {

    /** A non-streaming answer: {@code body} is an OpenAI {@code chat.completion} JSON object. */
    void onComplete(ByteBuf body, Usage usage);

    /** One streamed {@code chat.completion.chunk} JSON object, without SSE framing. */
    void onStreamChunk(ByteBuf chunkJson);

    /** The stream ended normally; {@code usage} as reported or counted. */
    void onStreamEnd(Usage usage);

    /** The call failed; for a stream, possibly after some chunks were delivered. */
    void onError(ProviderError error);
}
