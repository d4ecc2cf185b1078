package io.fastlitellm.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LiteLLM proxy {@code config.yaml}, read and checked. Sections the gateway does not use yet are
 * kept as {@link ConfigNode}s so the components that use them read them with the same error paths.
 *
 * @param source the file name (or {@code built-in demo config}) for messages
 * @param deployments {@code model_list}, in file order
 * @param modelGroupAlias {@code router_settings.model_group_alias}: alias to model group
 * @param masterKey {@code general_settings.master_key}, or null when the gateway is open
 * @param maxRequestBytes {@code general_settings.max_request_size_mb} in bytes (default 10 MiB)
 * @param dropParams {@code litellm_settings.drop_params}
 * @param routerSettings {@code router_settings} as read
 * @param litellmSettings {@code litellm_settings} as read
 * @param generalSettings {@code general_settings} as read
 * @param virtualKeys the top-level {@code virtual_keys:} list
 * @param defaultCompletionTokens {@code general_settings.default_completion_tokens}: the completion
 *     tokens reserved against tpm limits when a request sets no {@code max_tokens} (default 0)
 * @param switches which components run ({@code fast_litellm_settings} and {@code FAST_LITELLM_*})
 */
public record GatewayConfig(
        String source,
        List<DeploymentConfig> deployments,
        Map<String, String> modelGroupAlias,
        String masterKey,
        long maxRequestBytes,
        boolean dropParams,
        ConfigNode routerSettings,
        ConfigNode litellmSettings,
        ConfigNode generalSettings,
        List<VirtualKeyConfig> virtualKeys,
        long defaultCompletionTokens,
        Switches switches) {

    /** Model groups in the order they first appear in {@code model_list}. */
    public Map<String, List<DeploymentConfig>> groups() {
        Map<String, List<DeploymentConfig>> groups = new LinkedHashMap<>();
        for (DeploymentConfig d : deployments) {
            groups.computeIfAbsent(d.modelName(), k -> new java.util.ArrayList<>()).add(d);
        }
        groups.replaceAll((k, v) -> List.copyOf(v));
        return groups;
    }
}
