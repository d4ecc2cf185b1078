package io.fastlitellm.provider;

import io.fastlitellm.upstream.UpstreamClient;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The providers this build supports, by the prefix of {@code litellm_params.model}. OpenAI-compatible
 * services share {@link OpenAiProvider} with their own default base URL (as LiteLLM's do);
 * {@code hosted_vllm} and {@code openai_compatible}-style servers need an {@code api_base}.
 */
public final class Providers {
    private Providers() {
    }

    public static Map<String, Provider> all(UpstreamClient upstream, MockProvider mock, boolean dropParams) {
        Map<String, Provider> p = new LinkedHashMap<>();
        p.put("mock", mock);
        p.put("openai", OpenAiProvider.openAi(upstream));
        p.put("azure", new OpenAiProvider(upstream, OpenAiProvider.Flavor.AZURE, null));
        p.put("anthropic", new AnthropicProvider(upstream, dropParams));
        p.put("groq", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.groq.com/openai/v1"));
        p.put("together_ai", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.together.xyz/v1"));
        p.put("mistral", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.mistral.ai/v1"));
        p.put("deepseek", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.deepseek.com/v1"));
        p.put("fireworks_ai", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.fireworks.ai/inference/v1"));
        p.put("openrouter", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://openrouter.ai/api/v1"));
        p.put("xai", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "https://api.x.ai/v1"));
        p.put("lm_studio", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, "http://localhost:1234/v1"));
        p.put("hosted_vllm", new OpenAiProvider(upstream, OpenAiProvider.Flavor.OPENAI, null));
        return java.util.Collections.unmodifiableMap(p);
    }
}
