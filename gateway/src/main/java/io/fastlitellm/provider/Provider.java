package io.fastlitellm.provider;

/**
 * A kind of upstream ({@code mock}, later {@code openai}, {@code azure}, {@code anthropic}),
 * chosen by the prefix of {@code litellm_params.model}. Implementations never block the calling
 * event loop and always end a call (see {@link ChatSink}); a call can be cancelled when the client
 * goes away, after which it frees what it holds and delivers nothing more.
 */
public interface Provider {

    /** Starts a call; returns the handle that cancels it. */
    Cancellable chat(ChatCall call, ChatSink sink);

    /** Stops a call in progress. Idempotent; safe to call after the call ended. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();

        /** Pauses ({@code false}) or resumes reading from upstream while the client is slow. */
        default void setReading(boolean reading) {
        }
    }
}
