package io.fastlitellm.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A value read from a YAML config together with where it came from, so that every type error can
 * name the file and the path ({@code config.yaml: model_list[2].litellm_params.rpm: expected an
 * integer, got "abc"}). Strings of the form {@code os.environ/NAME} are resolved against the
 * environment when read as strings, as LiteLLM does.
 *
 * <p>Immutable once built; reading never changes it.
 */
public final class ConfigNode {
    private static final String ENV_PREFIX = "os.environ/";

    private final ConfigSource source;
    private final String path;
    private final Object value;

    ConfigNode(ConfigSource source, String path, Object value) {
        this.source = source;
        this.path = path;
        this.value = value;
    }

    /** The path of this value inside the file, e.g. {@code model_list[0].litellm_params}. */
    public String path() {
        return path;
    }

    /**
     * A node at this node's place holding {@code parsed} instead: a structure read from a string
     * this node (or the environment variable it stands for) held, such as a JSON list.
     */
    public ConfigNode parsedAs(Object parsed) {
        return new ConfigNode(source, path, parsed);
    }

    /** The raw value as SnakeYAML produced it (Map, List, String, Number, Boolean or null). */
    public Object raw() {
        return value;
    }

    public boolean isMissing() {
        return value == null;
    }

    public boolean isMap() {
        return value instanceof Map<?, ?>;
    }

    /** The child at {@code key}; a missing child is a node whose {@link #isMissing()} is true. */
    public ConfigNode get(String key) {
        Map<String, Object> map = asMap();
        return new ConfigNode(source, child(key), map.get(key));
    }

    public boolean has(String key) {
        return asMap().containsKey(key) && asMap().get(key) != null;
    }

    /** This value as a map with string keys; a missing value reads as an empty map. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> asMap() {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw error("expected a mapping (key: value pairs)");
        }
        for (Object k : map.keySet()) {
            if (!(k instanceof String)) {
                throw new ConfigException(source.name() + ": " + child(String.valueOf(k))
                        + ": keys must be strings, got " + describe(k));
            }
        }
        return (Map<String, Object>) map;
    }

    /** The entries of a map, in file order. */
    public List<Map.Entry<String, ConfigNode>> entries() {
        List<Map.Entry<String, ConfigNode>> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : asMap().entrySet()) {
            out.add(Map.entry(e.getKey(), new ConfigNode(source, child(e.getKey()), e.getValue())));
        }
        return out;
    }

    /** The elements of a list; a missing value reads as an empty list. */
    public List<ConfigNode> elements() {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw error("expected a list");
        }
        List<ConfigNode> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            out.add(new ConfigNode(source, path + "[" + i + "]", list.get(i)));
        }
        return out;
    }

    public String requireString() {
        if (value == null) {
            throw missing("a string");
        }
        return string(null);
    }

    /** This value as a string (os.environ/NAME resolved), or {@code fallback} when missing. */
    public String string(String fallback) {
        if (value == null) {
            return fallback;
        }
        if (value instanceof String s) {
            return resolveEnv(s);
        }
        if (value instanceof Number || value instanceof Boolean) {
            // YAML reads `api_version: 2024-06-01`-like values as non-strings; a string is meant.
            return String.valueOf(value);
        }
        throw error("expected a string");
    }

    /** This value as a long, accepting {@code os.environ/NAME} that holds a number. */
    public Long optionalLong() {
        Object v = scalarForNumber();
        if (v == null) {
            return null;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof java.math.BigInteger) {
            throw error("expected an integer that fits in 64 bits");
        }
        if (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) {
            return d.longValue();
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw error("expected an integer");
            }
        }
        throw error("expected an integer");
    }

    /** An integer that must be at least {@code min}, or null when missing. */
    public Long optionalLong(long min) {
        Long v = optionalLong();
        if (v != null && v < min) {
            throw invalid(v + " (expected: >= " + min + ")");
        }
        return v;
    }

    public Double optionalDouble() {
        Object v = scalarForNumber();
        if (v == null) {
            return null;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw error("expected a number");
            }
        }
        throw error("expected a number");
    }

    /** A number within [min, max], or null when missing. */
    public Double optionalDouble(double min, double max) {
        Double v = optionalDouble();
        if (v != null && (v < min || v > max || v.isNaN())) {
            throw invalid(v + " (expected: between " + min + " and " + max + ")");
        }
        return v;
    }

    public Boolean optionalBoolean() {
        Object v = value instanceof String s ? resolveEnv(s) : value;
        if (v == null) {
            return null;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s);
        }
        throw error("expected true or false");
    }

    /** A list of strings (a single string is accepted as a list of one). */
    public List<String> stringList() {
        if (value == null) {
            return List.of();
        }
        if (value instanceof String) {
            return List.of(string(null));
        }
        List<String> out = new ArrayList<>();
        for (ConfigNode e : elements()) {
            out.add(e.requireString());
        }
        return Collections.unmodifiableList(out);
    }

    /** Warns once per key of this map that is not in {@code known}. */
    public void warnUnknownKeys(Set<String> known, Consumer<String> warnings) {
        for (String key : asMap().keySet()) {
            if (!known.contains(key)) {
                warnings.accept(source.name() + ": " + child(key) + ": unknown key, ignored");
            }
        }
    }

    /** A copy of this map with every {@code os.environ/NAME} string resolved, nested values included. */
    public Map<String, Object> resolvedMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : entries()) {
            out.put(e.getKey(), e.getValue().resolvedValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private Object resolvedValue() {
        if (value instanceof String s) {
            return resolveEnv(s);
        }
        if (value instanceof Map<?, ?>) {
            return resolvedMap();
        }
        if (value instanceof List<?>) {
            List<Object> out = new ArrayList<>();
            for (ConfigNode e : elements()) {
                out.add(e.resolvedValue());
            }
            return Collections.unmodifiableList(out);
        }
        return value;
    }

    public ConfigException error(String expected) {
        return new ConfigException(source.name() + ": " + path + ": " + expected + ", got " + describe(value));
    }

    /** An error about this value: {@code file: path: detail}. */
    public ConfigException invalid(String detail) {
        return new ConfigException(source.name() + ": " + path + ": " + detail);
    }

    public ConfigException missing(String expected) {
        return new ConfigException(source.name() + ": " + path + ": required, expected " + expected);
    }

    private Object scalarForNumber() {
        return value instanceof String s ? resolveEnv(s) : value;
    }

    private String resolveEnv(String s) {
        if (!s.startsWith(ENV_PREFIX)) {
            return s;
        }
        String name = s.substring(ENV_PREFIX.length());
        String v = source.env().apply(name);
        if (v == null) {
            throw new ConfigException(source.name() + ": " + path + ": environment variable " + name
                    + " is not set (the value is " + s + ")");
        }
        return v;
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof String s) {
            return "\"" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "\"";
        }
        if (v instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        if (v instanceof Boolean) {
            return "a boolean (" + v + ")";
        }
        if (v instanceof Number) {
            return "a number (" + v + ")";
        }
        return v.getClass().getSimpleName();
    }

    /** Where a config came from: its name for messages and the environment for os.environ/ values. */
    record ConfigSource(String name, java.util.function.Function<String, String> env) {
    }
}
