package io.fastlitellm.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Which components run, set in {@code fast_litellm_settings:} of the config and overridden by the
 * environment variables {@code FAST_LITELLM_<COMPONENT>} ({@code true}/{@code false}), so an
 * operator can turn one off without editing the file. Everything is on by default.
 *
 * @param tokenCounting exact prompt token counting; off: a 4-characters-a-token estimate
 * @param rateLimiting key and deployment limits; off: nothing is limited
 * @param routing the configured {@code routing_strategy}; off: simple-shuffle (retries, cooldowns
 *     and fallbacks still apply)
 * @param connectionPooling reuse of upstream connections; off: a new connection per call
 * @param stats the per-component statistics of {@code GET /stats}; off: nothing is recorded
 */
public record Switches(boolean tokenCounting, boolean rateLimiting, boolean routing, boolean connectionPooling,
                       boolean stats) {

    public static final Switches ALL_ON = new Switches(true, true, true, true, true);

    /** The config keys, in order, each with its environment variable {@code FAST_LITELLM_<KEY>}. */
    static final String[] KEYS = {"token_counting", "rate_limiting", "routing", "connection_pooling", "stats"};

    public static String envName(String key) {
        return "FAST_LITELLM_" + key.toUpperCase(Locale.ROOT);
    }

    /** Reads {@code fast_litellm_settings} and then the environment, which wins. */
    static Switches read(ConfigNode section, Function<String, String> env) {
        section.asMap();
        boolean[] v = new boolean[KEYS.length];
        for (int i = 0; i < KEYS.length; i++) {
            Boolean fromFile = section.get(KEYS[i]).optionalBoolean();
            v[i] = fromFile == null || fromFile;
            String fromEnv = env.apply(envName(KEYS[i]));
            if (fromEnv != null && !fromEnv.isBlank()) {
                String t = fromEnv.trim().toLowerCase(Locale.ROOT);
                if (!t.equals("true") && !t.equals("false")) {
                    throw new ConfigException("environment variable " + envName(KEYS[i]) + ": \"" + fromEnv
                            + "\" (expected: true or false)");
                }
                v[i] = t.equals("true");
            }
        }
        return new Switches(v[0], v[1], v[2], v[3], v[4]);
    }

    /** {@code {"token_counting": true, ...}} for {@code /stats}. */
    public Map<String, Boolean> asMap() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        m.put(KEYS[0], tokenCounting);
        m.put(KEYS[1], rateLimiting);
        m.put(KEYS[2], routing);
        m.put(KEYS[3], connectionPooling);
        m.put(KEYS[4], stats);
        return m;
    }
}
