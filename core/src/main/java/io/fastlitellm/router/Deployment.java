package io.fastlitellm.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One entry of LiteLLM's {@code model_list}: where a model group's requests may go. Immutable.
 * Optional numbers use "unset" sentinels ({@link #UNSET}, NaN for costs) because LiteLLM's rules
 * depend on whether a field is present, not only on its value (simple-shuffle picks its mode from
 * the first deployment having {@code weight}, else {@code rpm}, ...).
 * {@link #litellmParams()} carries every {@code litellm_params} entry untouched so the gateway finds
 * provider settings (api_key, api_version, mock_*) without the router knowing them.
 */
public final class Deployment {
    /** Value of an unset integer field ({@code rpm}, {@code tpm}, {@code order}, ...). */
    public static final long UNSET = -1;

    private final String id;
    private final String modelName;
    private final String model;
    private final String apiBase;
    private final double weight;
    private final long rpm;
    private final long tpm;
    private final long order;
    private final List<String> tags;
    private final long maxInputTokens;
    private final double inputCostPerToken;
    private final double outputCostPerToken;
    private final Duration cooldownTime;
    private final Map<String, Object> litellmParams;

    private Deployment(Builder b) {
        this.id = b.id;
        this.modelName = b.modelName;
        this.model = b.model;
        this.apiBase = b.apiBase;
        this.weight = b.weight;
        this.rpm = b.rpm;
        this.tpm = b.tpm;
        this.order = b.order;
        this.tags = b.tags == null ? List.of() : List.copyOf(b.tags);
        this.maxInputTokens = b.maxInputTokens;
        this.inputCostPerToken = b.inputCostPerToken;
        this.outputCostPerToken = b.outputCostPerToken;
        this.cooldownTime = b.cooldownTime;
        this.litellmParams = b.litellmParams == null ? Map.of() : Map.copyOf(b.litellmParams);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code model_info.id}; unique across the router. */
    public String id() {
        return id;
    }

    /** {@code model_name}: the model group this deployment serves (may be a wildcard like {@code openai/*}). */
    public String modelName() {
        return modelName;
    }

    /** {@code litellm_params.model}, e.g. {@code azure/gpt-4o-eu}. */
    public String model() {
        return model;
    }

    public String apiBase() {
        return apiBase;
    }

    /** {@code weight}, or NaN when unset. */
    public double weight() {
        return weight;
    }

    public long rpm() {
        return rpm;
    }

    public long tpm() {
        return tpm;
    }

    /** {@code order}, or {@link #UNSET}: unset deployments are used only when no ordered one is available. */
    public long order() {
        return order;
    }

    public List<String> tags() {
        return tags;
    }

    /** Configured context window, or {@link #UNSET} (then {@link ModelCatalog} decides). */
    public long maxInputTokens() {
        return maxInputTokens;
    }

    /** Configured USD per input token, or NaN (then {@link ModelCatalog} decides). */
    public double inputCostPerToken() {
        return inputCostPerToken;
    }

    public double outputCostPerToken() {
        return outputCostPerToken;
    }

    /** Deployment-level {@code cooldown_time}, or null to use Retry-After / the router's. */
    public Duration cooldownTime() {
        return cooldownTime;
    }

    /** All {@code litellm_params} as configured, for the gateway's provider code. */
    public Map<String, Object> litellmParams() {
        return litellmParams;
    }

    /** The context window the router checks prompts against: configured, else the catalog's, else unbounded. */
    public long effectiveMaxInputTokens() {
        if (maxInputTokens != UNSET) return maxInputTokens;
        ModelCatalog.Entry e = ModelCatalog.lookup(model);
        return e == null ? Long.MAX_VALUE : e.maxInputTokens();
    }

    /** Input + output USD per token used by cost-based routing: configured, else the catalog's, else NaN (unknown). */
    public double effectiveCostPerToken() {
        ModelCatalog.Entry e = ModelCatalog.lookup(model);
        double in = !Double.isNaN(inputCostPerToken) ? inputCostPerToken : e == null ? Double.NaN : e.inputCostPerToken();
        double out = !Double.isNaN(outputCostPerToken) ? outputCostPerToken : e == null ? Double.NaN : e.outputCostPerToken();
        return in + out;
    }

    /** Problems with this deployment, each prefixed with {@code path} (e.g. {@code "deployments[3]"}). */
    List<String> validate(String path) {
        List<String> errors = new ArrayList<>();
        if (modelName == null || modelName.isBlank()) errors.add(path + ".model_name: " + modelName + " (expected: a non-empty model group name)");
        if (id != null && id.isBlank()) errors.add(path + ".id: \"" + id + "\" (expected: non-empty)");
        if (!Double.isNaN(weight) && (weight < 0 || Double.isInfinite(weight))) errors.add(path + ".weight: " + num(weight) + " (expected: >= 0)");
        if (rpm != UNSET && rpm < 0) errors.add(path + ".rpm: " + rpm + " (expected: >= 0)");
        if (tpm != UNSET && tpm < 0) errors.add(path + ".tpm: " + tpm + " (expected: >= 0)");
        if (order != UNSET && order < 0) errors.add(path + ".order: " + order + " (expected: >= 0)");
        if (maxInputTokens != UNSET && maxInputTokens <= 0) errors.add(path + ".max_input_tokens: " + maxInputTokens + " (expected: > 0)");
        if (!Double.isNaN(inputCostPerToken) && !(inputCostPerToken >= 0)) errors.add(path + ".input_cost_per_token: " + inputCostPerToken + " (expected: >= 0)");
        if (!Double.isNaN(outputCostPerToken) && !(outputCostPerToken >= 0)) errors.add(path + ".output_cost_per_token: " + outputCostPerToken + " (expected: >= 0)");
        if (cooldownTime != null && cooldownTime.isNegative()) errors.add(path + ".cooldown_time: " + cooldownTime.toMillis() / 1000.0 + " (expected: >= 0 seconds)");
        return errors;
    }

    private static String num(double v) {
        return v == Math.rint(v) && !Double.isInfinite(v) ? Long.toString((long) v) : Double.toString(v);
    }

    @Override
    public String toString() {
        return "Deployment{id=" + id + ", model_name=" + modelName + ", model=" + model + "}";
    }

    /** Builder; {@code model_name} is required, {@code id} defaults to {@code <model_name>-<index in the list>}. */
    public static final class Builder {
        private String id;
        private String modelName;
        private String model;
        private String apiBase;
        private double weight = Double.NaN;
        private long rpm = UNSET;
        private long tpm = UNSET;
        private long order = UNSET;
        private List<String> tags;
        private long maxInputTokens = UNSET;
        private double inputCostPerToken = Double.NaN;
        private double outputCostPerToken = Double.NaN;
        private Duration cooldownTime;
        private Map<String, Object> litellmParams;

        private Builder() {
        }

        public Builder id(String id) { this.id = id; return this; }
        public Builder modelName(String modelName) { this.modelName = modelName; return this; }
        public Builder model(String model) { this.model = model; return this; }
        public Builder apiBase(String apiBase) { this.apiBase = apiBase; return this; }
        public Builder weight(double weight) { this.weight = weight; return this; }
        public Builder rpm(long rpm) { this.rpm = rpm; return this; }
        public Builder tpm(long tpm) { this.tpm = tpm; return this; }
        public Builder order(long order) { this.order = order; return this; }
        public Builder tags(List<String> tags) { this.tags = tags; return this; }
        public Builder maxInputTokens(long maxInputTokens) { this.maxInputTokens = maxInputTokens; return this; }
        public Builder inputCostPerToken(double v) { this.inputCostPerToken = v; return this; }
        public Builder outputCostPerToken(double v) { this.outputCostPerToken = v; return this; }
        public Builder cooldownTime(Duration cooldownTime) { this.cooldownTime = cooldownTime; return this; }
        public Builder litellmParams(Map<String, Object> params) { this.litellmParams = params; return this; }

        /** Builds without validating; {@link Router} validates every deployment with its index in the message. */
        public Deployment build() {
            return new Deployment(this);
        }
    }

    Deployment withId(String newId) {
        Builder b = new Builder();
        b.id = newId;
        b.modelName = modelName;
        b.model = model;
        b.apiBase = apiBase;
        b.weight = weight;
        b.rpm = rpm;
        b.tpm = tpm;
        b.order = order;
        b.tags = tags;
        b.maxInputTokens = maxInputTokens;
        b.inputCostPerToken = inputCostPerToken;
        b.outputCostPerToken = outputCostPerToken;
        b.cooldownTime = cooldownTime;
        b.litellmParams = litellmParams;
        return new Deployment(b);
    }
}
