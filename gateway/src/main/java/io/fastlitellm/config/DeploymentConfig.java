package io.fastlitellm.config;

import java.util.List;
import java.util.Map;

/**
 * One entry of {@code model_list}: a deployment that serves the model group {@link #modelName()}.
 *
 * @param index position in {@code model_list}, for messages
 * @param modelName the public name clients ask for (the model group)
 * @param id {@code model_info.id}, or a stable id derived from the entry when absent
 * @param model {@code litellm_params.model} as written, e.g. {@code mock/gpt-4o}
 * @param provider the part of {@code model} before the first {@code /} ({@code openai} when none)
 * @param providerModel the part after it, the name the provider knows
 * @param apiBase {@code litellm_params.api_base}, or null
 * @param rpm requests per minute allowed for this deployment, or null for no limit
 * @param tpm tokens per minute allowed for this deployment, or null for no limit
 * @param weight {@code weight} for simple-shuffle, or null
 * @param order {@code order} (lower is tried first), or null
 * @param tags {@code tags}
 * @param timeoutSeconds {@code timeout}, or null
 * @param mock the mock provider's settings when {@code provider} is {@code mock}, else null
 * @param litellmParams every {@code litellm_params} value with {@code os.environ/} resolved
 * @param modelInfo every {@code model_info} value with {@code os.environ/} resolved
 */
public record DeploymentConfig(
        int index,
        String modelName,
        String id,
        String model,
        String provider,
        String providerModel,
        String apiBase,
        Long rpm,
        Long tpm,
        Double weight,
        Long order,
        List<String> tags,
        Double timeoutSeconds,
        MockSettings mock,
        Map<String, Object> litellmParams,
        Map<String, Object> modelInfo) {

    /** This deployment serving {@code model} upstream (for wildcard deployments). */
    public DeploymentConfig withProviderModel(String model) {
        return new DeploymentConfig(index, modelName, id, provider + "/" + model, provider, model, apiBase, rpm, tpm,
                weight, order, tags, timeoutSeconds, mock, litellmParams, modelInfo);
    }
}
