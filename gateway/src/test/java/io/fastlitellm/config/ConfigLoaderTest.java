package io.fastlitellm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading LiteLLM's config.yaml: what is kept, what is warned about, and every error naming file and path. */
class ConfigLoaderTest {
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, String> env = Map.of("AZURE_API_KEY", "az-secret", "RPM", "60");
    private final ConfigLoader loader = new ConfigLoader(env::get, warnings::add);

    @Test
    void readsLiteLlmsDocumentedExample() {
        GatewayConfig c = loader.parse("""
                model_list:
                  - model_name: gpt-4o
                    litellm_params:
                      model: azure/gpt-4o-eu
                      api_base: https://example.openai.azure.com
                      api_key: os.environ/AZURE_API_KEY
                      api_version: "2024-06-01"
                      rpm: 6
                      tpm: 1000
                      weight: 2
                      order: 1
                      tags: [default]
                      timeout: 30
                    model_info: {id: my-deployment-id, base_model: gpt-4o}
                  - model_name: gpt-4o-mini
                    litellm_params: {model: gpt-4o-mini, rpm: os.environ/RPM}
                router_settings:
                  routing_strategy: usage-based-routing-v2
                  redis_host: 127.0.0.1
                  redis_port: 6379
                  num_retries: 2
                  timeout: 30
                  allowed_fails: 3
                  cooldown_time: 30
                  enable_pre_call_checks: true
                  model_group_alias: {gpt-4: gpt-4o, gpt-4-hidden: {model: gpt-4o, hidden: true}}
                  retry_policy: {RateLimitErrorRetries: 3}
                  fallbacks: [{gpt-4o: [gpt-4o-mini]}]
                litellm_settings:
                  drop_params: true
                  request_timeout: 600
                  context_window_fallbacks: [{gpt-4o-mini: [gpt-4o]}]
                general_settings:
                  master_key: sk-1234
                  database_url: postgresql://example
                """, "config.yaml");

        assertThat(warnings).isEmpty();
        assertThat(c.deployments()).hasSize(2);
        DeploymentConfig d = c.deployments().get(0);
        assertThat(d.modelName()).isEqualTo("gpt-4o");
        assertThat(d.id()).isEqualTo("my-deployment-id");
        assertThat(d.provider()).isEqualTo("azure");
        assertThat(d.providerModel()).isEqualTo("gpt-4o-eu");
        assertThat(d.apiBase()).isEqualTo("https://example.openai.azure.com");
        assertThat(d.litellmParams().get("api_key")).isEqualTo("az-secret");
        assertThat(d.litellmParams().get("api_version")).isEqualTo("2024-06-01");
        assertThat(d.rpm()).isEqualTo(6);
        assertThat(d.tpm()).isEqualTo(1000);
        assertThat(d.weight()).isEqualTo(2.0);
        assertThat(d.order()).isEqualTo(1);
        assertThat(d.tags()).containsExactly("default");
        assertThat(d.timeoutSeconds()).isEqualTo(30.0);
        assertThat(d.modelInfo().get("base_model")).isEqualTo("gpt-4o");
        assertThat(d.mock()).isNull();

        DeploymentConfig bare = c.deployments().get(1);
        assertThat(bare.provider()).as("no prefix means openai, as in LiteLLM").isEqualTo("openai");
        assertThat(bare.rpm()).as("numbers may come from os.environ/").isEqualTo(60);
        assertThat(bare.id()).hasSize(32);

        assertThat(c.modelGroupAlias()).containsEntry("gpt-4", "gpt-4o").containsEntry("gpt-4-hidden", "gpt-4o");
        assertThat(c.masterKey()).isEqualTo("sk-1234");
        assertThat(c.dropParams()).isTrue();
        assertThat(c.maxRequestBytes()).isEqualTo(10L * 1024 * 1024);
        assertThat(c.routerSettings().get("num_retries").optionalLong()).isEqualTo(2);
        assertThat(c.groups().keySet()).containsExactly("gpt-4o", "gpt-4o-mini");
    }

    @Test
    void derivedIdsAreStableAndDistinct() {
        String yaml = """
                model_list:
                  - model_name: a
                    litellm_params: {model: mock/a}
                  - model_name: a
                    litellm_params: {model: mock/a, mock_response: other}
                """;
        GatewayConfig first = loader.parse(yaml, "c.yaml");
        GatewayConfig second = loader.parse(yaml, "c.yaml");
        assertThat(first.deployments().get(0).id()).isEqualTo(second.deployments().get(0).id());
        assertThat(first.deployments().get(0).id()).isNotEqualTo(first.deployments().get(1).id());
    }

    @Test
    void readsMockSettings() {
        MockSettings m = loader.parse("""
                model_list:
                  - model_name: m
                    litellm_params:
                      model: mock/m
                      mock_response: hi
                      mock_latency_ms: 5
                      mock_chunk_interval_ms: 2
                      mock_stream_chunks: 4
                      mock_status: 503
                      mock_failure_rate: 0.25
                      mock_retry_after: 3
                      mock_usage: {prompt_tokens: 10, completion_tokens: 20}
                """, "c.yaml").deployments().get(0).mock();
        assertThat(m).isEqualTo(new MockSettings("hi", 5, 2, 4, 503, 0.25, 3, 10, 20));
        assertThat(m.alwaysFails()).isFalse();
        MockSettings defaults = loader.parse("model_list: [{model_name: m, litellm_params: {model: mock/m}}]", "c.yaml")
                .deployments().get(0).mock();
        assertThat(defaults.response()).isEqualTo(MockSettings.DEFAULT_RESPONSE);
        assertThat(defaults.promptTokens()).isEqualTo(-1);
        assertThat(defaults.alwaysFails()).isFalse();
    }

    @Test
    void unknownKeysWarnOnceEachAndAreIgnored() {
        GatewayConfig c = loader.parse("""
                model_list:
                  - model_name: m
                    litellm_params: {model: mock/m}
                    extra_thing: 1
                router_settings: {routing_strategy: least-busy, shiny_new_option: true}
                litellm_settings: {success_callback: [langfuse]}
                general_settings: {alerting: [slack]}
                ui_settings: {}
                """, "c.yaml");
        assertThat(c.deployments()).hasSize(1);
        assertThat(warnings).containsExactlyInAnyOrder(
                "c.yaml: ui_settings: unknown key, ignored",
                "c.yaml: model_list[0].extra_thing: unknown key, ignored",
                "c.yaml: router_settings.shiny_new_option: unknown key, ignored",
                "c.yaml: litellm_settings.success_callback: unknown key, ignored",
                "c.yaml: general_settings.alerting: unknown key, ignored");
    }

    @Test
    void readsVirtualKeysWithEveryFieldAndRejectsBadOnesByPath() {
        String models = """
                model_list:
                  - {model_name: gpt-4o, litellm_params: {model: mock/gpt-4o}}
                  - {model_name: slow, litellm_params: {model: mock/slow}}
                general_settings: {master_key: sk-master}
                """;
        GatewayConfig c = loader.parse(models + """
                virtual_keys:
                  - {key: sk-team-a, key_alias: team-a, models: [gpt-4o, "openai/*"], rpm_limit: 20, tpm_limit: 1000,
                     max_parallel_requests: 2, metadata: {team: a, cost_center: 42}, shiny: 1}
                  - {key: sk-open}
                """, "c.yaml");
        assertThat(c.virtualKeys()).containsExactly(
                new VirtualKeyConfig("sk-team-a", "team-a", List.of("gpt-4o", "openai/*"), 20, 1000, 2, Map.of("team", "a", "cost_center", 42)),
                new VirtualKeyConfig("sk-open", null, List.of(), -1, -1, -1, Map.of()));
        assertThat(c.virtualKeys().get(1).displayName()).isEqualTo("sk-ope...open");
        assertThat(warnings).contains("c.yaml: virtual_keys[0].shiny: unknown key, ignored");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: team-a}]", "c.yaml"))
                .hasMessage("c.yaml: virtual_keys[0].key: must start with \"sk-\" (as in LiteLLM)");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-master}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[0].key").hasMessageContaining("master_key");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-a}, {key: sk-a}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[1].key").hasMessageContaining("twice");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-a, models: [gpt-5]}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[0].models[0]").hasMessageContaining("\"gpt-5\" is not a model_name");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-a, rpm_limit: -1}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[0].rpm_limit");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-a, max_parallel_requests: 0}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[0].max_parallel_requests");
        assertThatThrownBy(() -> loader.parse(models + "virtual_keys: [{key: sk-a, metadata: [x]}]", "c.yaml"))
                .hasMessageContaining("virtual_keys[0].metadata");
    }

    @Test
    void environmentVariablesSectionFeedsOsEnviron() {
        GatewayConfig c = loader.parse("""
                environment_variables: {MY_BASE: "http://127.0.0.1:9"}
                model_list:
                  - model_name: m
                    litellm_params: {model: openai/m, api_base: os.environ/MY_BASE}
                """, "c.yaml");
        assertThat(c.deployments().get(0).apiBase()).isEqualTo("http://127.0.0.1:9");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            model_list: [{model_name: m, litellm_params: {model: mock/m, rpm: lots}}]                | c.yaml: model_list[0].litellm_params.rpm: expected an integer, got "lots"
            model_list: [{model_name: m, litellm_params: {model: mock/m, tpm: -5}}]                  | c.yaml: model_list[0].litellm_params.tpm: -5 (expected: >= 0)
            model_list: [{model_name: m, litellm_params: {model: mock/m, weight: [1]}}]              | c.yaml: model_list[0].litellm_params.weight: expected a number, got a list
            model_list: [{model_name: m, litellm_params: {model: mock/m, tags: {a: 1}}}]             | c.yaml: model_list[0].litellm_params.tags: expected a list, got a mapping
            model_list: [{model_name: m, litellm_params: {model: mock/m, api_key: os.environ/NOPE}}] | c.yaml: model_list[0].litellm_params.api_key: environment variable NOPE is not set (the value is os.environ/NOPE)
            model_list: [{model_name: m}]                                                             | c.yaml: model_list[0].litellm_params: required, expected a mapping with at least `model: provider/name`
            model_list: [{model_name: m, litellm_params: {api_base: x}}]                              | c.yaml: model_list[0].litellm_params.model: required, expected a string
            model_list: [{litellm_params: {model: mock/m}}]                                           | c.yaml: model_list[0].model_name: required, expected a string
            model_list: [{model_name: m, litellm_params: {model: mock/m, mock_status: 200}}]         | c.yaml: model_list[0].litellm_params.mock_status: 200 (expected: an error status, 400..599)
            model_list: [{model_name: m, litellm_params: {model: mock/m, mock_failure_rate: 2}}]     | c.yaml: model_list[0].litellm_params.mock_failure_rate: 2.0 (expected: between 0.0 and 1.0)
            model_list: [{model_name: m, litellm_params: {model: mock/m}, model_info: {max_input_tokens: 0}}] | c.yaml: model_list[0].model_info.max_input_tokens: 0 (expected: >= 1)
            model_list: [{model_name: m, litellm_params: {model: mock/m}}, {model_name: m, litellm_params: {model: mock/n}, model_info: {id: x}}, {model_name: k, litellm_params: {model: mock/k}, model_info: {id: x}}] | c.yaml: model_list[2].model_info.id: "x" is used by another deployment (expected: unique ids)
            model_list: []                                                                            | c.yaml: model_list: empty (expected at least one deployment)
            model_list: {m: 1}                                                                        | c.yaml: model_list: expected a list, got a mapping
            router_settings: {}                                                                       | c.yaml: model_list: required, expected a list of deployments (model_name, litellm_params)
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\nrouter_settings: {routing_strategy: fastest} | c.yaml: router_settings.routing_strategy: "fastest" (expected one of [cost-based-routing, latency-based-routing, least-busy, simple-shuffle, usage-based-routing, usage-based-routing-v2])
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\nrouter_settings: {num_retries: many} | c.yaml: router_settings.num_retries: expected an integer, got "many"
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\nrouter_settings: {model_group_alias: {a: nothere}} | c.yaml: router_settings.model_group_alias.a: "nothere" is not a model_name in model_list
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\ngeneral_settings: {master_key: hunter2} | c.yaml: general_settings.master_key: must start with "sk-" (as in LiteLLM)
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\ngeneral_settings: {max_request_size_mb: big} | c.yaml: general_settings.max_request_size_mb: expected a number, got "big"
            model_list: [{model_name: m, litellm_params: {model: mock/m}}]\\nlitellm_settings: {drop_params: maybe} | c.yaml: litellm_settings.drop_params: expected true or false, got "maybe"
            - just a list                                                                             | c.yaml: expected a mapping with model_list, router_settings, ... at the top, got a list
            """)
    void errorsNameTheFileThePathAndWhatWasExpected(String yaml, String message) {
        assertThatThrownBy(() -> loader.parse(yaml.replace("\\n", "\n"), "c.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void invalidYamlNamesLineAndColumn() {
        assertThatThrownBy(() -> loader.parse("model_list:\n  - model_name: [unclosed\n", "c.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("c.yaml: line 3, column 1: not valid YAML");
        assertThatThrownBy(() -> loader.parse("a: 1\na: 2\n", "c.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("c.yaml: line 2").hasMessageContaining("duplicate key a");
    }

    @Test
    void yamlCannotInstantiateClasses() {
        assertThatThrownBy(() -> loader.parse("model_list: !!javax.script.ScriptEngineManager []", "c.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void emptyAndMissingFilesAreClearErrors(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> loader.parse("", "c.yaml")).hasMessage("c.yaml: the file is empty (expected at least a model_list)");
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> loader.load(missing)).hasMessage(missing + ": no such file");
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, "model_list: [{model_name: m, litellm_params: {model: mock/m, rpm: x}}]");
        assertThatThrownBy(() -> loader.load(file)).hasMessageStartingWith(file + ": model_list[0].litellm_params.rpm");
    }

    @Test
    void theDemoConfigServesMockDeploymentsOnly() {
        GatewayConfig demo = loader.loadDemo();
        assertThat(warnings).isEmpty();
        assertThat(demo.source()).isEqualTo(ConfigLoader.DEMO_NAME);
        assertThat(demo.masterKey()).isNull();
        assertThat(demo.deployments()).isNotEmpty().allSatisfy(d -> assertThat(d.provider()).isEqualTo("mock"));
        assertThat(demo.groups()).containsKeys("gpt-4o", "gpt-4o-mini");
    }

    @Test
    void maxRequestSizeIsInMebibytes() {
        GatewayConfig c = loader.parse("""
                model_list: [{model_name: m, litellm_params: {model: mock/m}}]
                general_settings: {max_request_size_mb: 2}
                """, "c.yaml");
        assertThat(c.maxRequestBytes()).isEqualTo(2L * 1024 * 1024);
    }
}
