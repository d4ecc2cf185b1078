package io.fastlitellm.config;

/**
 * A config file that cannot be used as it is. The message always names the file, the path inside
 * it ({@code model_list[2].litellm_params.rpm}) and what was expected, so the user can fix it
 * without reading our source.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
