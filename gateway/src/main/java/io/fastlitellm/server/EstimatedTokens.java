package io.fastlitellm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A rough token estimate (4 characters a token, LiteLLM's per-message overhead) used until the
 * exact tokenizer is wired in; only the mock provider's reported usage depends on it.
 */
final class EstimatedTokens {
    private EstimatedTokens() {
    }

    static long text(String s) {
        return (s.length() + 3) / 4;
    }

    static long prompt(ObjectNode body) {
        long n = 3;
        for (JsonNode m : body.path("messages")) {
            n += 3;
            for (JsonNode v : m) {
                if (v.isTextual()) {
                    n += text(v.textValue());
                }
            }
        }
        return n;
    }
}
