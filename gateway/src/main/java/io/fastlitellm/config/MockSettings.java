package io.fastlitellm.config;

/**
 * What a {@code mock/...} deployment answers, read from its {@code litellm_params}.
 *
 * @param response {@code mock_response}: the assistant text
 * @param latencyMs {@code mock_latency_ms}: delay before the answer (before the first chunk when streaming)
 * @param chunkIntervalMs {@code mock_chunk_interval_ms}: delay between stream chunks
 * @param streamChunks {@code mock_stream_chunks}: content chunks a stream is cut into; 0 means one per word
 * @param status {@code mock_status}: an HTTP status every call fails with, or 0 for none
 * @param failureRate {@code mock_failure_rate}: the share of calls, 0..1, that fail (with
 *     {@code mock_status}, else 500)
 * @param retryAfterSeconds {@code mock_retry_after}: the {@code Retry-After} sent with a failure, or 0
 * @param promptTokens {@code mock_usage.prompt_tokens}, or -1 to count the prompt
 * @param completionTokens {@code mock_usage.completion_tokens}, or -1 to count the response
 */
public record MockSettings(
        String response,
        long latencyMs,
        long chunkIntervalMs,
        int streamChunks,
        int status,
        double failureRate,
        long retryAfterSeconds,
        long promptTokens,
        long completionTokens) {

    public static final String DEFAULT_RESPONSE = "This is a mock response from fast-litellm.";

    /** True when every call fails: a {@code mock_status} without a rate, or a rate of 1. */
    public boolean alwaysFails() {
        return failureRate >= 1.0 || (failureRate == 0 && status != 0);
    }
}
