package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fastlitellm.config.ConfigException;
import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.config.ConfigNode;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Redis is configured as LiteLLM configures it: router_settings first, then REDIS_* variables. */
class RedisSettingsTest {

    private static ConfigNode router(String yaml) {
        return new ConfigLoader(name -> null, w -> { })
                .parse("model_list: [{model_name: m, litellm_params: {model: mock/m}}]\nrouter_settings:\n" + yaml, "config.yaml").routerSettings();
    }

    private static Optional<RedisSettings> settings(String yaml, Map<String, String> env) {
        return RedisSettings.fromConfig(router(yaml), env);
    }

    @Test
    void noHostAndNoUrlMeansNoRedis() {
        assertThat(settings("  num_retries: 1\n", Map.of())).isEmpty();
    }

    @Test
    void hostPortAndPasswordMakeAUriWithDefaults() {
        RedisSettings s = settings("  redis_host: 10.0.0.5\n  redis_port: 6380\n  redis_password: p@ss word\n", Map.of())
                .orElseThrow();
        assertThat(s.uris()).containsExactly("redis://:p%40ss%20word@10.0.0.5:6380");
        assertThat(s.cluster()).isFalse();
        assertThat(s.redactedUri()).isEqualTo("redis://***@10.0.0.5:6380");
        assertThat(s.budget()).isEqualTo(Duration.ofMillis(50));
        assertThat(s.failurePolicy()).isEqualTo(RedisSettings.FailurePolicy.FALLBACK);
    }

    @Test
    void theUrlWinsAndThePolicyAndBudgetAreRead() {
        RedisSettings s = settings("  redis_url: redis://cache:7000\n  redis_host: ignored\n"
                + "  redis_failure_policy: refuse\n  redis_timeout_ms: 20\n", Map.of()).orElseThrow();
        assertThat(s.uris()).containsExactly("redis://cache:7000");
        assertThat(s.failurePolicy()).isEqualTo(RedisSettings.FailurePolicy.REFUSE);
        assertThat(s.budget()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void environmentVariablesAreTheFallback() {
        RedisSettings s = settings("  num_retries: 1\n",
                Map.of("REDIS_HOST", "redis.internal", "REDIS_PORT", "6390", "REDIS_PASSWORD", "pw")).orElseThrow();
        assertThat(s.uris()).containsExactly("redis://:pw@redis.internal:6390");
        assertThat(settings("  redis_port: 1\n", Map.of("REDIS_URL", "redis://u:6379")).orElseThrow().uris())
                .containsExactly("redis://u:6379");
    }

    @Test
    void badValuesNameThePathAndWhatIsExpected() {
        assertThatThrownBy(() -> settings("  redis_host: h\n  redis_failure_policy: maybe\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("router_settings.redis_failure_policy")
                .hasMessageContaining("expected: fallback or refuse");
        assertThatThrownBy(() -> settings("  redis_url: http://h:1\n", Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("expected: redis://host:port");
        assertThatThrownBy(() -> settings("  redis_host: h\n  redis_port: 70000\n", Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("70000 (expected: 1..65535)");
        assertThatThrownBy(() -> settings("  redis_host: h\n", Map.of("REDIS_PORT", "abc")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("REDIS_PORT=\"abc\"");
        assertThatThrownBy(() -> settings("  redis_host: h\n  redis_timeout_ms: 0\n", Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("redis_timeout_ms");
    }

    @Test
    void startupNodesMakeAClusterWithThePasswordOnEveryNode() {
        RedisSettings s = settings("""
                  redis_startup_nodes:
                    - {host: 10.0.0.1, port: 7000}
                    - {host: 10.0.0.2, port: "7001"}
                  redis_password: pw
                  redis_host: ignored
                """, Map.of("REDIS_CLUSTER_NODES", "[{\"host\": \"ignored\", \"port\": 1}]")).orElseThrow();
        assertThat(s.cluster()).isTrue();
        assertThat(s.uris()).containsExactly("redis://:pw@10.0.0.1:7000", "redis://:pw@10.0.0.2:7001");
        assertThat(s.redactedUri()).isEqualTo("cluster [redis://***@10.0.0.1:7000, redis://***@10.0.0.2:7001]");
    }

    /** As LiteLLM: a URL wins over startup nodes, and startup nodes (config or environment) over a host. */
    @Test
    void theEnvironmentsClusterNodesAreReadAsJsonAfterAUrlAndBeforeAHost() {
        Map<String, String> env = Map.of("REDIS_CLUSTER_NODES", "[{\"host\": \"c1\", \"port\": \"7000\"}, {\"host\": \"c2\"}]");
        RedisSettings s = settings("  redis_host: single\n", env).orElseThrow();
        assertThat(s.cluster()).isTrue();
        assertThat(s.uris()).containsExactly("redis://c1:7000", "redis://c2:6379");
        RedisSettings url = settings("  redis_url: redis://one:6379\n", env).orElseThrow();
        assertThat(url.cluster()).isFalse();
        assertThat(url.uris()).containsExactly("redis://one:6379");
        // a string value holds the list as JSON (LiteLLM accepts both), e.g. os.environ/NAME
        RedisSettings fromString = settings("  redis_startup_nodes: '[{\"host\": \"s\", \"port\": 7002}]'\n", Map.of())
                .orElseThrow();
        assertThat(fromString.uris()).containsExactly("redis://s:7002");
        // set but blank, as a compose file may leave it: not set
        assertThat(settings("  redis_host: single\n", Map.of("REDIS_CLUSTER_NODES", " ")).orElseThrow().cluster()).isFalse();
    }

    @Test
    void badStartupNodesSayWhereAndWhatIsExpected() {
        assertThatThrownBy(() -> settings("", Map.of("REDIS_CLUSTER_NODES", "10.0.0.1:7000")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("REDIS_CLUSTER_NODES=\"10.0.0.1:7000\" is not JSON")
                .hasMessageContaining("expected: a list of {host, port}");
        assertThatThrownBy(() -> settings("  redis_startup_nodes: []\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("router_settings.redis_startup_nodes")
                .hasMessageContaining("expected: a list of {host, port}");
        assertThatThrownBy(() -> settings("  redis_startup_nodes: [{port: 7000}]\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("router_settings.redis_startup_nodes: [0].host is missing");
        assertThatThrownBy(() -> settings("  redis_startup_nodes: [{host: a}, {host: b, port: 99999}]\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("[1].port: 99999 (expected: 1..65535)");
        assertThatThrownBy(() -> settings("  redis_startup_nodes: [{host: a, port: seven}]\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("[0].port: \"seven\" (expected: a port number)");
        assertThatThrownBy(() -> settings("", Map.of("REDIS_CLUSTER_NODES", "[\"a:1\"]")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("REDIS_CLUSTER_NODES[0]: \"a:1\" (expected: {host, port})");
    }

    /** LiteLLM also reads Redis Sentinel; we do not, and say so rather than keep limits per instance silently. */
    @Test
    void sentinelNodesAloneGetAWarningThatSaysWhatToSetInstead() {
        Map<String, String> env = Map.of("REDIS_SENTINEL_NODES", "[[\"10.0.0.9\", 26379]]", "REDIS_SERVICE_NAME", "mymaster");
        assertThat(settings("  num_retries: 1\n", env)).isEmpty();
        assertThat(RedisSettings.unsupportedWarning(router("  num_retries: 1\n"), env)).hasValueSatisfying(w -> assertThat(w)
                .contains("REDIS_SENTINEL_NODES is set, but Redis Sentinel is not supported")
                .contains("set redis_url (or REDIS_URL) to the primary"));
        // with Redis configured otherwise, or without Sentinel, there is nothing to say
        assertThat(RedisSettings.unsupportedWarning(router("  redis_url: redis://primary:6379\n"), env)).isEmpty();
        assertThat(RedisSettings.unsupportedWarning(router("  num_retries: 1\n"), Map.of())).isEmpty();
    }
}
