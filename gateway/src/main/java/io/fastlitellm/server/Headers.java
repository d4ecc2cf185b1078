package io.fastlitellm.server;

import io.netty.util.AsciiString;

/** Header names the gateway writes, as pre-encoded constants (no per-request string encoding). */
final class Headers {
    static final AsciiString MODEL_ID = AsciiString.cached("x-litellm-model-id");
    static final AsciiString MODEL_GROUP = AsciiString.cached("x-litellm-model-group");
    static final AsciiString MODEL_API_BASE = AsciiString.cached("x-litellm-model-api-base");
    static final AsciiString ATTEMPTED_RETRIES = AsciiString.cached("x-litellm-attempted-retries");
    static final AsciiString ATTEMPTED_FALLBACKS = AsciiString.cached("x-litellm-attempted-fallbacks");
    static final AsciiString OVERHEAD_MS = AsciiString.cached("x-litellm-overhead-duration-ms");
    static final AsciiString LIMIT_REQUESTS = AsciiString.cached("x-ratelimit-limit-requests");
    static final AsciiString REMAINING_REQUESTS = AsciiString.cached("x-ratelimit-remaining-requests");
    static final AsciiString LIMIT_TOKENS = AsciiString.cached("x-ratelimit-limit-tokens");
    static final AsciiString REMAINING_TOKENS = AsciiString.cached("x-ratelimit-remaining-tokens");
    static final AsciiString API_KEY = AsciiString.cached("api-key");
    static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");
    static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");
    static final AsciiString JSON = AsciiString.cached("application/json");

    private Headers() {
    }

    /** Milliseconds with three decimals, as LiteLLM writes its overhead header. */
    static String millis(long nanos) {
        long micros = Math.max(0, nanos) / 1000;
        long ms = micros / 1000;
        long frac = micros % 1000;
        return ms + "." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac;
    }
}
