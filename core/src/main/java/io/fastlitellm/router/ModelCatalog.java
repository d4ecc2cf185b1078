package io.fastlitellm.router;

import java.util.Locale;
import java.util.Map;

/**
 * A small built-in table of common models' context windows and prices, used when a deployment does
 * not say ({@code model_info.max_input_tokens}, {@code litellm_params.input_cost_per_token},
 * {@code output_cost_per_token}). Figures are the providers' published list prices (USD per token)
 * as LiteLLM's {@code model_prices_and_context_window.json} records them. Lookup drops a provider
 * prefix ({@code azure/gpt-4o} finds {@code gpt-4o}) and then takes the longest known name the model
 * starts with, so dated snapshots ({@code gpt-4o-2024-08-06}) find their family.
 */
public final class ModelCatalog {

    /** One row: context window in tokens and USD per input and output token. */
    public record Entry(long maxInputTokens, double inputCostPerToken, double outputCostPerToken) {
    }

    private static final Map<String, Entry> TABLE = Map.ofEntries(
            Map.entry("gpt-4o", new Entry(128_000, 2.5e-6, 1.0e-5)),
            Map.entry("gpt-4o-mini", new Entry(128_000, 1.5e-7, 6.0e-7)),
            Map.entry("gpt-4.1", new Entry(1_047_576, 2.0e-6, 8.0e-6)),
            Map.entry("gpt-4.1-mini", new Entry(1_047_576, 4.0e-7, 1.6e-6)),
            Map.entry("gpt-4.1-nano", new Entry(1_047_576, 1.0e-7, 4.0e-7)),
            Map.entry("gpt-4-turbo", new Entry(128_000, 1.0e-5, 3.0e-5)),
            Map.entry("gpt-4", new Entry(8_192, 3.0e-5, 6.0e-5)),
            Map.entry("gpt-3.5-turbo", new Entry(16_385, 5.0e-7, 1.5e-6)),
            Map.entry("o1", new Entry(200_000, 1.5e-5, 6.0e-5)),
            Map.entry("o3-mini", new Entry(200_000, 1.1e-6, 4.4e-6)),
            Map.entry("o4-mini", new Entry(200_000, 1.1e-6, 4.4e-6)),
            Map.entry("claude-3-5-sonnet", new Entry(200_000, 3.0e-6, 1.5e-5)),
            Map.entry("claude-3-7-sonnet", new Entry(200_000, 3.0e-6, 1.5e-5)),
            Map.entry("claude-3-5-haiku", new Entry(200_000, 8.0e-7, 4.0e-6)),
            Map.entry("claude-3-opus", new Entry(200_000, 1.5e-5, 7.5e-5)),
            Map.entry("claude-3-haiku", new Entry(200_000, 2.5e-7, 1.25e-6)),
            Map.entry("gemini-1.5-pro", new Entry(2_097_152, 1.25e-6, 5.0e-6)),
            Map.entry("gemini-1.5-flash", new Entry(1_048_576, 7.5e-8, 3.0e-7)),
            Map.entry("gemini-2.0-flash", new Entry(1_048_576, 1.0e-7, 4.0e-7)),
            Map.entry("text-embedding-3-small", new Entry(8_191, 2.0e-8, 0)),
            Map.entry("text-embedding-3-large", new Entry(8_191, 1.3e-7, 0)));

    private ModelCatalog() {
    }

    /** The row for a model string such as {@code openai/gpt-4o-2024-08-06}, or null if unknown. */
    public static Entry lookup(String model) {
        if (model == null) return null;
        String m = model.toLowerCase(Locale.ROOT);
        int slash = m.lastIndexOf('/');
        if (slash >= 0) m = m.substring(slash + 1);
        Entry exact = TABLE.get(m);
        if (exact != null) return exact;
        String best = null;
        for (String name : TABLE.keySet()) {
            if (m.startsWith(name) && m.length() > name.length() && m.charAt(name.length()) == '-'
                    && (best == null || name.length() > best.length())) {
                best = name;
            }
        }
        return best == null ? null : TABLE.get(best);
    }
}
