package io.fastlitellm.provider;

/** Tokens a call consumed, as the provider reported them (or as we counted them for the mock). */
public record Usage(long promptTokens, long completionTokens) {
    public long totalTokens() {
        return promptTokens + completionTokens;
    }
}
