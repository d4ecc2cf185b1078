package io.fastlitellm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** fast_litellm_settings and FAST_LITELLM_* switches: defaults, file, environment over file, bad values. */
class SwitchesTest {
    private static final String MODELS = "model_list: [{model_name: m, litellm_params: {model: mock/m}}]\n";

    private static Switches read(String yaml, Map<String, String> env) {
        List<String> warnings = new ArrayList<>();
        Switches s = new ConfigLoader(env::get, warnings::add).parse(MODELS + yaml, "c.yaml").switches();
        assertThat(warnings).isEmpty();
        return s;
    }

    @Test
    void everythingIsOnByDefault() {
        assertThat(read("", Map.of())).isEqualTo(Switches.ALL_ON);
    }

    @Test
    void theFileTurnsComponentsOff() {
        Switches s = read("fast_litellm_settings: {token_counting: false, rate_limiting: false, routing: false, "
                + "connection_pooling: false, stats: false}\n", Map.of());
        assertThat(s).isEqualTo(new Switches(false, false, false, false, false));
    }

    @Test
    void theEnvironmentWinsOverTheFile() {
        Switches s = read("fast_litellm_settings: {stats: false, routing: true}\n", Map.of(
                "FAST_LITELLM_STATS", "true",
                "FAST_LITELLM_ROUTING", "FALSE",
                "FAST_LITELLM_TOKEN_COUNTING", "false",
                "FAST_LITELLM_RATE_LIMITING", " false ",
                "FAST_LITELLM_CONNECTION_POOLING", "false"));
        assertThat(s).isEqualTo(new Switches(false, false, false, false, true));
    }

    @Test
    void aBadValueNamesTheVariable() {
        assertThatThrownBy(() -> read("", Map.of("FAST_LITELLM_RATE_LIMITING", "off")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("environment variable FAST_LITELLM_RATE_LIMITING: \"off\" (expected: true or false)");
        assertThatThrownBy(() -> read("fast_litellm_settings: {stats: sometimes}\n", Map.of()))
                .hasMessage("c.yaml: fast_litellm_settings.stats: expected true or false, got \"sometimes\"");
    }

    @Test
    void envNamesFollowTheKeys() {
        assertThat(Switches.envName("connection_pooling")).isEqualTo("FAST_LITELLM_CONNECTION_POOLING");
    }
}
