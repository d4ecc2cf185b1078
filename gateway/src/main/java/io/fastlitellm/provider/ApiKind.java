package io.fastlitellm.provider;

/** The OpenAI endpoints the gateway serves, with their path under a provider's base URL. */
public enum ApiKind {
    CHAT("/chat/completions"),
    COMPLETION("/completions"),
    EMBEDDING("/embeddings");

    private final String path;

    ApiKind(String path) {
        this.path = path;
    }

    /** The path after the base URL (OpenAI) or after the Azure deployment. */
    public String path() {
        return path;
    }
}
