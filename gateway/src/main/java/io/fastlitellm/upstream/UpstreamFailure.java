package io.fastlitellm.upstream;

/**
 * Why an exchange with a provider failed without a complete HTTP response.
 *
 * @param kind what went wrong
 * @param message names the endpoint and the cause
 */
public record UpstreamFailure(Kind kind, String message) {

    /** The kinds of failure, each mapped to a status the client sees. */
    public enum Kind {
        CONNECT_REFUSED(502),
        CONNECT_TIMEOUT(408),
        TLS(502),
        FIRST_BYTE_TIMEOUT(408),
        IDLE_TIMEOUT(408),
        TOTAL_TIMEOUT(408),
        CONNECTION_CLOSED(502),
        POOL_EXHAUSTED(503),
        PROTOCOL(502);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        /** 408 for timeouts as LiteLLM's Timeout, 502 for a broken upstream, 503 when we cannot queue. */
        public int status() {
            return status;
        }
    }
}
