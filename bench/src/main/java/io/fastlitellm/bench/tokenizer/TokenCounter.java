package io.fastlitellm.bench.tokenizer;

import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import io.fastlitellm.tokenizer.Encoding;
import io.fastlitellm.tokenizer.Encodings;

/** One implementation under test, behind the two calls the benchmarks make. */
interface TokenCounter {

    int count(String text);

    int[] encode(String text);

    /** Peers by name: {@code fast-litellm} (ours) and {@code jtokkit}. */
    static TokenCounter of(String impl, String encoding) {
        switch (impl) {
            case "fast-litellm" -> {
                Encoding e = Encodings.get(encoding);
                return new TokenCounter() {
                    @Override
                    public int count(String text) {
                        return e.countTokens(text);
                    }

                    @Override
                    public int[] encode(String text) {
                        return e.encodeOrdinary(text);
                    }
                };
            }
            case "jtokkit" -> {
                EncodingRegistry registry = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry();
                com.knuddels.jtokkit.api.Encoding e = registry.getEncoding(EncodingType.fromName(encoding).orElseThrow(
                        () -> new IllegalArgumentException("encoding: '" + encoding + "' (jtokkit has no such encoding)")));
                return new TokenCounter() {
                    @Override
                    public int count(String text) {
                        return e.countTokensOrdinary(text);
                    }

                    @Override
                    public int[] encode(String text) {
                        return e.encodeOrdinary(text).toArray();
                    }
                };
            }
            default -> throw new IllegalArgumentException("impl: '" + impl + "' (expected: fast-litellm or jtokkit)");
        }
    }
}
