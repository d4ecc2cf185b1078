package io.fastlitellm.router;

/**
 * The kinds of upstream failure that LiteLLM's router treats differently (its exception classes).
 * The gateway maps each failed attempt onto one of these; {@link #fromStatus(int)} does it from the
 * HTTP status alone when nothing better is known.
 */
public enum ErrorClass {
    /** 429: retried ({@code RateLimitErrorRetries}); cools the deployment in multi-deployment groups. */
    RATE_LIMIT,
    /** The prompt does not fit the model: no retry when a context-window fallback exists. */
    CONTEXT_WINDOW_EXCEEDED,
    /** A content filter refused the request: no retry when a content-policy fallback exists. */
    CONTENT_POLICY,
    /** 401/403. */
    AUTHENTICATION,
    /** 404: never retried, straight to fallbacks. */
    NOT_FOUND,
    /** 408 or no answer in time; also records a latency penalty for latency-based routing. */
    TIMEOUT,
    /** Any other 4xx. */
    BAD_REQUEST,
    /** 5xx, connection errors. */
    SERVER_ERROR;

    /** The class LiteLLM gives an exception with this HTTP status (0 or negative = connection error). */
    public static ErrorClass fromStatus(int status) {
        if (status == 429) return RATE_LIMIT;
        if (status == 401 || status == 403) return AUTHENTICATION;
        if (status == 404) return NOT_FOUND;
        if (status == 408) return TIMEOUT;
        if (status >= 400 && status < 500) return BAD_REQUEST;
        return SERVER_ERROR;
    }
}
