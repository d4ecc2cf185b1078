package io.fastlitellm.redis;

import io.fastlitellm.config.ConfigNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the shared Redis is and what to do when it does not answer. Read as LiteLLM reads it, first
 * match wins: a URL ({@code router_settings.redis_url}, else the environment's {@code REDIS_URL});
 * else a Redis Cluster's startup nodes ({@code redis_startup_nodes}, else {@code REDIS_CLUSTER_NODES},
 * a JSON list of {@code {"host": ..., "port": ...}}); else {@code redis_host} / {@code redis_port} /
 * {@code redis_password} (else {@code REDIS_HOST}, {@code REDIS_PORT}, {@code REDIS_PASSWORD}). The
 * password applies to every cluster node. None of them: no Redis, every limit is local.
 *
 * @param uris          one {@code redis://[:password@]host:port} URI, or a cluster's startup nodes
 * @param cluster       whether {@code uris} are the nodes of a Redis Cluster (any of them will do:
 *                      the rest of the cluster is discovered from it)
 * @param budget        the longest a request may wait for Redis (a command's timeout); default 50 ms
 * @param failurePolicy what a limit check does when Redis is down or over budget
 */
public record RedisSettings(List<String> uris, boolean cluster, Duration budget, FailurePolicy failurePolicy) {

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
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        uris = List.copyOf(Objects.requireNonNull(uris, "uris"));
        if (uris.isEmpty() || (!cluster && uris.size() != 1)) {
            throw new IllegalArgumentException("uris: " + uris + " (expected: one URI, or a cluster's nodes)");
        }
        for (String u : uris) {
            if (!u.startsWith("redis://") && !u.startsWith("rediss://")) {
                throw new IllegalArgumentException("uri: '" + u + "' (expected: redis://host:port or rediss://...)");
            }
        }
        if (budget == null || budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: > 0)");
        }
    }

    /** One Redis (or a primary with replicas behind one address) at {@code uri}. */
    public RedisSettings(String uri, Duration budget, FailurePolicy failurePolicy) {
        this(List.of(Objects.requireNonNull(uri, "uri")), false, budget, failurePolicy);
    }

    /** A Redis Cluster reached through any of {@code nodeUris}. */
    public static RedisSettings ofCluster(List<String> nodeUris, Duration budget, FailurePolicy failurePolicy) {
        return new RedisSettings(nodeUris, true, budget, failurePolicy);
    }

    /**
     * The settings in {@code router_settings} (with {@code env} as LiteLLM's fallback), or empty when
     * Redis is not configured. {@code redis_failure_policy}: {@code fallback} (default) or
     * {@code refuse}; {@code redis_timeout_ms}: the budget, default 50.
     *
     * @throws io.fastlitellm.config.ConfigException naming the path of a bad value
     */
    public static Optional<RedisSettings> fromConfig(ConfigNode routerSettings, Map<String, String> env) {
        String policy = routerSettings.get("redis_failure_policy").string("fallback");
        FailurePolicy fp = switch (policy) {
            case "fallback" -> FailurePolicy.FALLBACK;
            case "refuse" -> FailurePolicy.REFUSE;
            default -> throw routerSettings.get("redis_failure_policy")
                    .invalid("\"" + policy + "\" (expected: fallback or refuse)");
        };
        Long ms = routerSettings.get("redis_timeout_ms").optionalLong(1);
        Duration budget = ms == null ? DEFAULT_BUDGET : Duration.ofMillis(ms);
        String password = routerSettings.get("redis_password").string(env.get("REDIS_PASSWORD"));

        String url = routerSettings.get("redis_url").string(null);
        if (url == null) {
            url = env.get("REDIS_URL");
        }
        if (url != null) {
            if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
                throw routerSettings.get("redis_url").invalid("\"" + url + "\" (expected: redis://host:port or rediss://...)");
            }
            return Optional.of(new RedisSettings(url, budget, fp));
        }
        List<String> nodes = startupNodes(routerSettings.get("redis_startup_nodes"), env.get("REDIS_CLUSTER_NODES"), password);
        if (nodes != null) {
            return Optional.of(ofCluster(nodes, budget, fp));
        }
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
        return Optional.of(new RedisSettings(uri(host, port, password), budget, fp));
    }

    /**
     * A warning for a Redis setup LiteLLM reads but this gateway does not, so that limits are not
     * kept per instance without a word: Redis Sentinel ({@code REDIS_SENTINEL_NODES}) when nothing
     * else points at Redis. Empty when there is nothing to say.
     */
    public static Optional<String> unsupportedWarning(ConfigNode routerSettings, Map<String, String> env) {
        String sentinels = env.get("REDIS_SENTINEL_NODES");
        if (sentinels == null || sentinels.isBlank() || fromConfig(routerSettings, env).isPresent()) {
            return Optional.empty();
        }
        return Optional.of("fast-litellm: warning: REDIS_SENTINEL_NODES is set, but Redis Sentinel is not supported:"
                + " limits, usage and cooldowns stay per instance. To share them, set redis_url (or REDIS_URL) to the"
                + " primary, or redis_startup_nodes (or REDIS_CLUSTER_NODES) for a Redis Cluster.");
    }

    private static final String NODES_EXAMPLE = "a list of {host, port}, such as [{\"host\": \"10.0.0.1\", \"port\": 7000}]";

    /**
     * The cluster's node URIs from {@code redis_startup_nodes} (a YAML list of {@code {host, port}},
     * or a string holding that list as JSON, as LiteLLM accepts), else from {@code envNodes}
     * ({@code REDIS_CLUSTER_NODES}, JSON); null when neither is set.
     */
    private static List<String> startupNodes(ConfigNode configured, String envNodes, String password) {
        ConfigNode nodes = configured;
        // Errors name the value's place: [i].port under the config path, or under REDIS_CLUSTER_NODES.
        String where = configured.isMissing() ? "REDIS_CLUSTER_NODES" : "";
        if (configured.isMissing() || configured.raw() instanceof String) {
            String json = configured.isMissing() ? envNodes : configured.string(null);
            if (json == null || json.isBlank()) {
                return null; // set but empty (as a compose file may leave it): not set, as a blank REDIS_HOST
            }
            try {
                nodes = configured.parsedAs(new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Object.class));
            } catch (java.io.IOException e) {
                throw configured.invalid(where + (where.isEmpty() ? "" : "=") + abbreviate(json)
                        + " is not JSON (expected: " + NODES_EXAMPLE + ")");
            }
        }
        if (!(nodes.raw() instanceof List<?> list) || list.isEmpty()) {
            throw configured.invalid(where + (where.isEmpty() ? "" : ": ") + abbreviate(String.valueOf(nodes.raw()))
                    + " (expected: " + NODES_EXAMPLE + ")");
        }
        List<String> uris = new java.util.ArrayList<>();
        List<ConfigNode> elements = nodes.elements();
        for (int i = 0; i < elements.size(); i++) {
            ConfigNode n = elements.get(i);
            String at = where + "[" + i + "]";
            if (!n.isMap()) {
                throw configured.invalid(at + ": " + abbreviate(String.valueOf(n.raw())) + " (expected: {host, port})");
            }
            String host = n.get("host").string(null);
            if (host == null || host.isBlank()) {
                throw configured.invalid(at + ".host is missing (expected: " + NODES_EXAMPLE + ")");
            }
            long port;
            try {
                port = Long.parseLong(n.get("port").string("6379").trim());
            } catch (NumberFormatException e) {
                throw configured.invalid(at + ".port: " + abbreviate(String.valueOf(n.get("port").raw()))
                        + " (expected: a port number)");
            }
            if (port < 1 || port > 65535) {
                throw configured.invalid(at + ".port: " + port + " (expected: 1..65535)");
            }
            uris.add(uri(host, port, password));
        }
        return uris;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? "\"" + s + "\"" : "\"" + s.substring(0, 77) + "...\"";
    }

    private static String uri(String host, long port, String password) {
        return "redis://" + (password == null || password.isEmpty() ? "" : ":" + encode(password) + "@")
                + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    private static String encode(String password) {
        return java.net.URLEncoder.encode(password, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Where Redis is, without passwords, for logs: the URI, or {@code cluster [uri, ...]}. */
    public String redactedUri() {
        List<String> out = new java.util.ArrayList<>(uris.size());
        for (String uri : uris) {
            int at = uri.indexOf('@');
            int scheme = uri.indexOf("://");
            out.add(at < 0 ? uri : uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1));
        }
        return cluster ? "cluster " + out : out.get(0);
    }
}
