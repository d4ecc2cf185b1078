package io.fastlitellm.router;

import java.util.List;

/**
 * What the router needs to know about one request: its prompt size in tokens (counted by the
 * gateway's tokenizer; used by the context-window and tpm checks), the request's
 * {@code metadata.tags} (tag filtering) and whether it streams (latency routing then ranks by time
 * to first token).
 */
public record RouteRequest(long inputTokens, List<String> tags, boolean stream) {

    /** A request with no token count, no tags, not streaming. */
    public static final RouteRequest EMPTY = new RouteRequest(0, List.of(), false);

    public RouteRequest {
        if (inputTokens < 0) {
            throw new IllegalArgumentException("inputTokens: " + inputTokens + " (expected: >= 0)");
        }
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    public static RouteRequest of(long inputTokens) {
        return new RouteRequest(inputTokens, List.of(), false);
    }
}
