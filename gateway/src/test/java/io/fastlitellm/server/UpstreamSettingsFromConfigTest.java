package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** litellm_settings.ssl_verify as a path adds that CA file to the upstream trust store. */
class UpstreamSettingsFromConfigTest {

    @Test
    void sslVerifyPathBecomesTheExtraCaFile() {
        List<String> warnings = new ArrayList<>();
        var loader = new ConfigLoader(Map.of("CA", "/etc/private-ca.pem")::get, warnings::add);
        var config = loader.parse("""
                model_list: [{model_name: m, litellm_params: {model: mock/m}}]
                litellm_settings: {ssl_verify: os.environ/CA}
                """, "c.yaml");
        assertThat(Gateway.upstreamSettings(config).caFile()).isEqualTo(Path.of("/etc/private-ca.pem"));
        assertThat(warnings).isEmpty();
        var plain = loader.parse("model_list: [{model_name: m, litellm_params: {model: mock/m}}]", "c.yaml");
        assertThat(Gateway.upstreamSettings(plain).caFile()).isNull();
    }
}
