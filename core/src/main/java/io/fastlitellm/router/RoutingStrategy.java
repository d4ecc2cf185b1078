package io.fastlitellm.router;

import java.util.Locale;

/** LiteLLM's {@code routing_strategy} values. */
public enum RoutingStrategy {
    SIMPLE_SHUFFLE("simple-shuffle"),
    LEAST_BUSY("least-busy"),
    USAGE_BASED_ROUTING("usage-based-routing"),
    USAGE_BASED_ROUTING_V2("usage-based-routing-v2"),
    LATENCY_BASED_ROUTING("latency-based-routing"),
    COST_BASED_ROUTING("cost-based-routing");

    private final String configName;

    RoutingStrategy(String configName) {
        this.configName = configName;
    }

    /** The name used in config.yaml, e.g. {@code "simple-shuffle"}. */
    public String configName() {
        return configName;
    }

    /** Parses a config.yaml name; the message lists the accepted names. */
    public static RoutingStrategy fromConfigName(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (RoutingStrategy s : values()) {
                if (s.configName.equals(n)) return s;
            }
        }
        StringBuilder accepted = new StringBuilder();
        for (RoutingStrategy s : values()) {
            if (accepted.length() > 0) accepted.append(", ");
            accepted.append(s.configName);
        }
        throw new IllegalArgumentException("routing_strategy: " + name + " (expected one of: " + accepted + ")");
    }

    @Override
    public String toString() {
        return configName;
    }
}
