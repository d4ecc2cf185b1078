package io.fastlitellm.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads LiteLLM's proxy {@code config.yaml}. Promises: a file that LiteLLM accepts is read the same
 * way (unknown keys are kept and warned about once, never fatal); a wrong type, a bad value or a
 * missing required key fails with a {@link ConfigException} naming the file, the path in it and
 * what was expected; nothing in the YAML can instantiate a class (SnakeYAML's safe constructor).
 */
public final class ConfigLoader {

    /** Name used in messages for the config that {@code serve} uses when given none. */
    public static final String DEMO_NAME = "built-in demo config";
    static final long DEFAULT_MAX_REQUEST_BYTES = 10L * 1024 * 1024;

    private static final Set<String> TOP_LEVEL = Set.of(
            "model_list", "router_settings", "litellm_settings", "general_settings", "environment_variables",
            "virtual_keys", "fast_litellm_settings");
    private static final Set<String> KEY_FIELDS = Set.of(
            "key", "key_alias", "models", "rpm_limit", "tpm_limit", "max_parallel_requests", "metadata");
    private static final Set<String> DEPLOYMENT_KEYS = Set.of("model_name", "litellm_params", "model_info");
    private static final Set<String> ROUTER_KEYS = Set.of(
            "routing_strategy", "routing_strategy_args", "model_group_alias", "num_retries", "timeout",
            "stream_timeout", "allowed_fails", "allowed_fails_policy", "cooldown_time", "retry_after",
            "retry_policy", "model_group_retry_policy", "fallbacks", "context_window_fallbacks",
            "content_policy_fallbacks", "default_fallbacks", "max_fallbacks", "enable_pre_call_checks",
            "enable_tag_filtering", "tag_filtering_match_any", "redis_host", "redis_port", "redis_password",
            "redis_url", "redis_startup_nodes", "redis_failure_policy", "redis_timeout_ms", "disable_cooldowns", "default_max_parallel_requests", "set_verbose", "debug_level",
            "cache_responses", "cache_kwargs", "lowest_latency_buffer", "optional_pre_call_checks");
    private static final Set<String> LITELLM_KEYS = Set.of(
            "drop_params", "request_timeout", "num_retries", "fallbacks", "context_window_fallbacks",
            "content_policy_fallbacks", "default_fallbacks", "set_verbose", "json_logs", "modify_params", "ssl_verify");
    private static final Set<String> GENERAL_KEYS = Set.of(
            "master_key", "database_url", "max_request_size_mb", "max_response_size_mb", "default_completion_tokens");
    private static final Set<String> ROUTING_STRATEGIES = Set.of(
            "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2",
            "latency-based-routing", "cost-based-routing");

    private final Function<String, String> systemEnv;
    private final Consumer<String> warnings;

    /**
     * @param systemEnv the process environment, for {@code os.environ/NAME} values ({@code System::getenv})
     * @param warnings receives one line per ignored key
     */
    public ConfigLoader(Function<String, String> systemEnv, Consumer<String> warnings) {
        this.systemEnv = systemEnv;
        this.warnings = warnings;
    }

    /** A loader over the process environment that prints warnings to stderr. */
    public static ConfigLoader standard() {
        return new ConfigLoader(System::getenv, w -> System.err.println("fast-litellm: warning: " + w));
    }

    public GatewayConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ConfigException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** The config that {@code serve} uses when given none: mock deployments, no keys, no network. */
    public GatewayConfig loadDemo() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("demo-config.yaml")) {
            if (in == null) {
                throw new IllegalStateException("demo-config.yaml missing from the jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), DEMO_NAME);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the built-in demo config", e);
        }
    }

    /** Parses YAML text; {@code sourceName} is used in every message. */
    public GatewayConfig parse(String yamlText, String sourceName) {
        Object doc = readYaml(yamlText, sourceName);
        if (doc == null) {
            throw new ConfigException(sourceName + ": the file is empty (expected at least a model_list)");
        }
        Map<String, String> declaredEnv = new HashMap<>();
        ConfigNode.ConfigSource source = new ConfigNode.ConfigSource(sourceName, name -> {
            String v = declaredEnv.get(name);
            return v != null ? v : systemEnv.apply(name);
        });
        ConfigNode root = new ConfigNode(source, "", doc);
        if (!root.isMap()) {
            throw new ConfigException(sourceName + ": expected a mapping with model_list, router_settings, ... at the top, got "
                    + ConfigNode.describe(doc));
        }
        root.warnUnknownKeys(TOP_LEVEL, warnings);
        // LiteLLM sets these in the process environment before reading the rest; we overlay them.
        for (Map.Entry<String, ConfigNode> e : root.get("environment_variables").entries()) {
            declaredEnv.put(e.getKey(), e.getValue().string(""));
        }

        ConfigNode router = root.get("router_settings");
        router.asMap();
        router.warnUnknownKeys(ROUTER_KEYS, warnings);
        String strategy = router.get("routing_strategy").string("simple-shuffle");
        if (!ROUTING_STRATEGIES.contains(strategy)) {
            throw router.get("routing_strategy").invalid("\"" + strategy + "\" (expected one of "
                    + new TreeSet<>(ROUTING_STRATEGIES) + ")");
        }
        for (String key : List.of("num_retries", "allowed_fails", "redis_port", "max_fallbacks",
                "default_max_parallel_requests")) {
            router.get(key).optionalLong(0);
        }
        for (String key : List.of("timeout", "stream_timeout", "cooldown_time", "retry_after")) {
            router.get(key).optionalDouble(0, Double.MAX_VALUE);
        }
        for (String key : List.of("enable_pre_call_checks", "enable_tag_filtering", "disable_cooldowns")) {
            router.get(key).optionalBoolean();
        }
        Map<String, String> aliases = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : router.get("model_group_alias").entries()) {
            ConfigNode target = e.getValue();
            // LiteLLM accepts either `alias: group` or `alias: {model: group, hidden: bool}`.
            aliases.put(e.getKey(), target.isMap() ? target.get("model").requireString() : target.requireString());
        }

        ConfigNode litellm = root.get("litellm_settings");
        litellm.asMap();
        litellm.warnUnknownKeys(LITELLM_KEYS, warnings);
        boolean dropParams = Boolean.TRUE.equals(litellm.get("drop_params").optionalBoolean());
        litellm.get("request_timeout").optionalDouble(0, Double.MAX_VALUE);
        litellm.get("num_retries").optionalLong(0);

        ConfigNode general = root.get("general_settings");
        general.asMap();
        general.warnUnknownKeys(GENERAL_KEYS, warnings);
        String masterKey = general.get("master_key").string(null);
        if (masterKey != null && !masterKey.startsWith("sk-")) {
            throw general.get("master_key").invalid("must start with \"sk-\" (as in LiteLLM)");
        }
        Double maxMb = general.get("max_request_size_mb").optionalDouble(0.001, 1024 * 1024);
        long maxRequestBytes = maxMb == null ? DEFAULT_MAX_REQUEST_BYTES : (long) (maxMb * 1024 * 1024);

        ConfigNode modelList = root.get("model_list");
        if (modelList.isMissing()) {
            throw modelList.missing("a list of deployments (model_name, litellm_params)");
        }
        List<DeploymentConfig> deployments = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (ConfigNode entry : modelList.elements()) {
            DeploymentConfig d = deployment(entry, deployments.size(), sourceName);
            if (!ids.add(d.id())) {
                throw new ConfigException(sourceName + ": " + entry.path() + ".model_info.id: \"" + d.id()
                        + "\" is used by another deployment (expected: unique ids)");
            }
            deployments.add(d);
        }
        if (deployments.isEmpty()) {
            throw new ConfigException(sourceName + ": model_list: empty (expected at least one deployment)");
        }
        Set<String> groups = new HashSet<>();
        deployments.forEach(d -> groups.add(d.modelName()));
        for (Map.Entry<String, String> alias : aliases.entrySet()) {
            if (!groups.contains(alias.getValue())) {
                throw new ConfigException(sourceName + ": router_settings.model_group_alias." + alias.getKey()
                        + ": \"" + alias.getValue() + "\" is not a model_name in model_list");
            }
        }
        List<VirtualKeyConfig> keys = virtualKeys(root.get("virtual_keys"), masterKey, groups, aliases.keySet());
        ConfigNode fastSettings = root.get("fast_litellm_settings");
        fastSettings.warnUnknownKeys(Set.of(Switches.KEYS), warnings);
        Switches switches = Switches.read(fastSettings, systemEnv);
        Long defaultCompletion = general.get("default_completion_tokens").optionalLong(0);
        return new GatewayConfig(sourceName, List.copyOf(deployments), Map.copyOf(aliases), masterKey,
                maxRequestBytes, dropParams, router, litellm, general, keys,
                defaultCompletion == null ? 0 : defaultCompletion, switches);
    }

    private List<VirtualKeyConfig> virtualKeys(ConfigNode list, String masterKey, Set<String> groups, Set<String> aliases) {
        List<VirtualKeyConfig> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode k : list.elements()) {
            if (!k.isMap()) {
                throw k.error("expected a key (key, models, rpm_limit, ...)");
            }
            k.warnUnknownKeys(KEY_FIELDS, warnings);
            String key = k.get("key").requireString();
            if (!key.startsWith("sk-")) {
                throw k.get("key").invalid("must start with \"sk-\" (as in LiteLLM)");
            }
            if (key.equals(masterKey)) {
                throw k.get("key").invalid("is the master_key (expected: a key of its own)");
            }
            if (!seen.add(key)) {
                throw k.get("key").invalid("is declared twice (expected: unique keys)");
            }
            List<String> models = k.get("models").stringList();
            for (int i = 0; i < models.size(); i++) {
                String m = models.get(i);
                if (!groups.contains(m) && !aliases.contains(m) && !m.equals("*") && !m.endsWith("/*")) {
                    throw k.get("models").elements().get(i).invalid("\"" + m + "\" is not a model_name in model_list");
                }
            }
            Long rpm = k.get("rpm_limit").optionalLong(0);
            Long tpm = k.get("tpm_limit").optionalLong(0);
            Long parallel = k.get("max_parallel_requests").optionalLong(1);
            k.get("metadata").asMap();
            out.add(new VirtualKeyConfig(key, k.get("key_alias").string(null), models,
                    rpm == null ? -1 : rpm, tpm == null ? -1 : tpm, parallel == null ? -1 : parallel,
                    k.get("metadata").resolvedMap()));
        }
        return List.copyOf(out);
    }

    private DeploymentConfig deployment(ConfigNode entry, int index, String sourceName) {
        if (!entry.isMap()) {
            throw entry.error("expected a deployment (model_name, litellm_params)");
        }
        entry.warnUnknownKeys(DEPLOYMENT_KEYS, warnings);
        String modelName = entry.get("model_name").requireString();
        if (modelName.isBlank()) {
            throw entry.get("model_name").error("expected a non-empty model name");
        }
        ConfigNode params = entry.get("litellm_params");
        if (params.isMissing()) {
            throw params.missing("a mapping with at least `model: provider/name`");
        }
        params.asMap();
        String model = params.get("model").requireString();
        int slash = model.indexOf('/');
        String provider = slash > 0 ? model.substring(0, slash) : "openai";
        String providerModel = slash > 0 ? model.substring(slash + 1) : model;
        if (providerModel.isEmpty()) {
            throw params.get("model").error("expected provider/model-name");
        }
        ConfigNode info = entry.get("model_info");
        info.asMap();
        info.get("max_input_tokens").optionalLong(1);
        String id = info.get("id").string(null);
        Map<String, Object> resolvedParams = params.resolvedMap();
        if (id == null) {
            id = derivedId(modelName, resolvedParams);
        }
        for (String key : List.of("cooldown_time", "input_cost_per_token", "output_cost_per_token", "stream_timeout")) {
            params.get(key).optionalDouble(0, Double.MAX_VALUE);
        }
        params.get("extra_headers").asMap();
        params.get("drop_params").optionalBoolean();
        MockSettings mock = "mock".equals(provider) ? mockSettings(params) : null;
        return new DeploymentConfig(index, modelName, id, model, provider, providerModel,
                params.get("api_base").string(null),
                params.get("rpm").optionalLong(0),
                params.get("tpm").optionalLong(0),
                params.get("weight").optionalDouble(0, Double.MAX_VALUE),
                params.get("order").optionalLong(0),
                params.get("tags").stringList(),
                params.get("timeout").optionalDouble(0, Double.MAX_VALUE),
                mock, resolvedParams, info.resolvedMap());
    }

    private static MockSettings mockSettings(ConfigNode params) {
        Long status = params.get("mock_status").optionalLong(0);
        if (status != null && status != 0 && (status < 400 || status > 599)) {
            throw params.get("mock_status").invalid(status + " (expected: an error status, 400..599)");
        }
        Long chunks = params.get("mock_stream_chunks").optionalLong(0);
        if (chunks != null && chunks > 100_000) {
            throw params.get("mock_stream_chunks").invalid(chunks + " (expected: <= 100000)");
        }
        ConfigNode usage = params.get("mock_usage");
        usage.asMap();
        Long prompt = usage.get("prompt_tokens").optionalLong(0);
        Long completion = usage.get("completion_tokens").optionalLong(0);
        Double rate = params.get("mock_failure_rate").optionalDouble(0, 1);
        Long latency = params.get("mock_latency_ms").optionalLong(0);
        Long interval = params.get("mock_chunk_interval_ms").optionalLong(0);
        Long retryAfter = params.get("mock_retry_after").optionalLong(0);
        return new MockSettings(
                params.get("mock_response").string(MockSettings.DEFAULT_RESPONSE),
                latency == null ? 0 : latency,
                interval == null ? 0 : interval,
                chunks == null ? 0 : chunks.intValue(),
                status == null ? 0 : status.intValue(),
                rate == null ? 0 : rate,
                retryAfter == null ? 0 : retryAfter,
                prompt == null ? -1 : prompt,
                completion == null ? -1 : completion);
    }

    /** LiteLLM derives an id from the entry when model_info.id is absent; ours is stable across restarts too. */
    private static String derivedId(String modelName, Map<String, Object> params) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(modelName.getBytes(StandardCharsets.UTF_8));
            sha.update(new TreeMap<>(params).toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object readYaml(String text, String sourceName) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(50);
        try {
            return new Yaml(new SafeConstructor(options)).load(text);
        } catch (MarkedYAMLException e) {
            var mark = e.getProblemMark();
            String where = mark == null ? "" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
            throw new ConfigException(sourceName + ": " + where + "not valid YAML: " + e.getProblem(), e);
        } catch (YAMLException e) {
            throw new ConfigException(sourceName + ": not valid YAML: " + e.getMessage(), e);
        }
    }
}
