package io.fastlitellm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelEncodingsTest {

    @ParameterizedTest
    @CsvSource({
        "gpt-5, o200k_base", "gpt-5-mini-2025-08-07, o200k_base", "gpt-4.1-nano, o200k_base", "gpt-4o, o200k_base",
        "gpt-4o-mini-2024-07-18, o200k_base", "chatgpt-4o-latest, o200k_base", "o1, o200k_base", "o1-preview, o200k_base",
        "o3-mini, o200k_base", "o4-mini-2025-04-16, o200k_base", "gpt-4.5-preview, o200k_base", "ft:gpt-4o-mini:org::abc, o200k_base",
        "gpt-4, cl100k_base", "gpt-4-turbo-2024-04-09, cl100k_base", "gpt-4-32k, cl100k_base", "gpt-3.5-turbo, cl100k_base",
        "gpt-35-turbo-16k, cl100k_base", "text-embedding-3-large, cl100k_base", "text-embedding-ada-002, cl100k_base",
        "davinci-002, cl100k_base", "ft:gpt-3.5-turbo:org::x, cl100k_base",
        "text-davinci-003, p50k_base", "code-davinci-002, p50k_base", "text-davinci-edit-001, p50k_edit",
        "davinci, r50k_base", "text-curie-001, r50k_base", "ada, r50k_base", "gpt2, r50k_base",
        "azure/gpt-4o-eu, o200k_base", "openai/gpt-4.1, o200k_base", "my-gpt-4o-deployment, o200k_base", "azure/o3, o200k_base",
        "claude-3-5-sonnet, cl100k_base", "llama-3-70b, cl100k_base", "mock/demo, cl100k_base", "'', cl100k_base",
        "GPT-4O, o200k_base", "foo2o3bar, cl100k_base",
    })
    void mapsModelNamesLikeTiktokenAndLiteLlm(String model, String encoding) {
        assertThat(ModelEncodings.encodingName(model)).isEqualTo(encoding);
        assertThat(Encodings.forModel(model).name()).isEqualTo(encoding);
    }

    @org.junit.jupiter.api.Test
    void nullModelUsesTheDefault() {
        assertThat(ModelEncodings.encodingName(null)).isEqualTo("cl100k_base");
    }
}
