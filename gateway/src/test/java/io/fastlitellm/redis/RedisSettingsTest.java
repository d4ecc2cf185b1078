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
        assertThat(s.uri()).isEqualTo("redis://:p%40ss%20word@10.0.0.5:6380");
        assertThat(s.redactedUri()).isEqualTo("redis://***@10.0.0.5:6380");
        assertThat(s.budget()).isEqualTo(Duration.ofMillis(50));
        assertThat(s.failurePolicy()).isEqualTo(RedisSettings.FailurePolicy.FALLBACK);
    }

    @Test
    void theUrlWinsAndThePolicyAndBudgetAreRead() {
        RedisSettings s = settings("  redis_url: redis://cache:7000\n  redis_host: ignored\n"
                + "  redis_failure_policy: refuse\n  redis_timeout_ms: 20\n", Map.of()).orElseThrow();
        assertThat(s.uri()).isEqualTo("redis://cache:7000");
        assertThat(s.failurePolicy()).isEqualTo(RedisSettings.FailurePolicy.REFUSE);
        assertThat(s.budget()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void environmentVariablesAreTheFallback() {
        RedisSettings s = settings("  num_retries: 1\n",
                Map.of("REDIS_HOST", "redis.internal", "REDIS_PORT", "6390", "REDIS_PASSWORD", "pw")).orElseThrow();
        assertThat(s.uri()).isEqualTo("redis://:pw@redis.internal:6390");
        assertThat(settings("  redis_port: 1\n", Map.of("REDIS_URL", "redis://u:6379")).orElseThrow().uri())
                .isEqualTo("redis://u:6379");
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
}
