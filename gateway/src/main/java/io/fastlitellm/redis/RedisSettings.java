package io.fastlitellm.redis;

import io.fastlitellm.config.ConfigNode;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the shared Redis is and what to do when it does not answer. Read as LiteLLM reads it:
 * {@code router_settings.redis_url}, else {@code redis_host} / {@code redis_port} /
 * {@code redis_password}, else the environment's {@code REDIS_URL}, {@code REDIS_HOST},
 * {@code REDIS_PORT}, {@code REDIS_PASSWORD}. No host and no URL: no Redis, every limit is local.
 *
 * @param uri           a {@code redis://[:password@]host:port} URI
 * @param budget        the longest a request may wait for Redis (a command's timeout); default 50 ms
 * @param failurePolicy what a limit check does when Redis is down or over budget
 */
public record RedisSettings(String uri, Duration budget, FailurePolicy failurePolicy) {

    /** The budget the issue asks for: a Redis call never holds a request longer than this. */
    public static final Duration DEFAULT_BUDGET = Duration.ofMillis(50);

    /** What a limit check does while Redis cannot answer within the budget. */
    public enum FailurePolicy {
        /**
         * Check against this instance's own in-memory limits (the default): requests keep flowing,
         * limits hold per instance instead of across instances; one warning a minute and a counter.
         */
        FALLBACK,
        /** Refuse the request: {@link SharedStateUnavailableException}, which a gateway answers with 503. */
        REFUSE
    }

    public RedisSettings {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        if (budget == null || budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: > 0)");
        }
    }

    /**
     * The settings in {@code router_settings} (with {@code env} as LiteLLM's fallback), or empty when
     * Redis is not configured. {@code redis_failure_policy}: {@code fallback} (default) or
     * {@code refuse}; {@code redis_timeout_ms}: the budget, default 50.
     *
     * @throws io.fastlitellm.config.ConfigException naming the path of a bad value
     */
    public static Optional<RedisSettings> fromConfig(ConfigNode routerSettings, Map<String, String> env) {
        String url = routerSettings.get("redis_url").string(null);
        if (url == null) {
            url = env.get("REDIS_URL");
        }
        if (url == null) {
            String host = routerSettings.get("redis_host").string(env.get("REDIS_HOST"));
            if (host == null || host.isBlank()) {
                return Optional.empty();
            }
            Long port = routerSettings.get("redis_port").optionalLong(1);
            if (port == null) {
                String p = env.get("REDIS_PORT");
                try {
                    port = p == null ? 6379L : Long.parseLong(p.trim());
                } catch (NumberFormatException e) {
                    throw routerSettings.get("redis_port").invalid("REDIS_PORT=\"" + p + "\" (expected: a port number)");
                }
            }
            if (port < 1 || port > 65535) {
                throw routerSettings.get("redis_port").invalid(port + " (expected: 1..65535)");
            }
            String password = routerSettings.get("redis_password").string(env.get("REDIS_PASSWORD"));
            url = "redis://" + (password == null || password.isEmpty() ? "" : ":" + encode(password) + "@")
                    + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
        } else if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
            throw routerSettings.get("redis_url").invalid("\"" + url + "\" (expected: redis://host:port or rediss://...)");
        }
        String policy = routerSettings.get("redis_failure_policy").string("fallback");
        FailurePolicy fp = switch (policy) {
            case "fallback" -> FailurePolicy.FALLBACK;
            case "refuse" -> FailurePolicy.REFUSE;
            default -> throw routerSettings.get("redis_failure_policy")
                    .invalid("\"" + policy + "\" (expected: fallback or refuse)");
        };
        Long ms = routerSettings.get("redis_timeout_ms").optionalLong(1);
        return Optional.of(new RedisSettings(url, ms == null ? DEFAULT_BUDGET : Duration.ofMillis(ms), fp));
    }

    private static String encode(String password) {
        return java.net.URLEncoder.encode(password, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The URI without its password, for logs. */
    public String redactedUri() {
        int at = uri.indexOf('@');
        int scheme = uri.indexOf("://");
        return at < 0 ? uri : uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1);
    }
}
