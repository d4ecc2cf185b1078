package io.fastlitellm.stats;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;

/**
 * Performance statistics per {@link Component}: calls, errors, latency percentiles (HdrHistogram)
 * and input/output sizes, exported as JSON or CSV. This is the library form of the gateway's
 * {@code GET /stats}.
 *
 * <p>Thread-safe; recording is wait-free. A disabled instance ({@link #disabled()}) records nothing
 * and costs one branch per call, so the {@code FAST_LITELLM_STATS=false} switch really removes the
 * work.
 */
public final class Stats {
    private final EnumMap<Component, ComponentStats> components = new EnumMap<>(Component.class);
    private final boolean enabled;

    private Stats(boolean enabled) {
        this.enabled = enabled;
        for (Component c : Component.values()) {
            components.put(c, new ComponentStats());
        }
    }

    public static Stats create() {
        return new Stats(true);
    }

    /** Stats that record nothing; snapshots are all zero. */
    public static Stats disabled() {
        return new Stats(false);
    }

    public boolean enabled() {
        return enabled;
    }

    /**
     * Records one operation of {@code component} that took {@code nanos}.
     *
     * @param inputSize, outputSize sizes in the component's unit, 0 when not applicable
     */
    public void record(Component component, long nanos, long inputSize, long outputSize, boolean error) {
        if (enabled) {
            components.get(component).record(nanos, inputSize, outputSize, error);
        }
    }

    public ComponentSnapshot snapshot(Component component) {
        return components.get(component).snapshot(component);
    }

    /** Every component, in {@link Component} order. */
    public List<ComponentSnapshot> snapshot() {
        List<ComponentSnapshot> out = new ArrayList<>();
        for (Component c : Component.values()) {
            out.add(snapshot(c));
        }
        return out;
    }

    public void reset() {
        components.values().forEach(ComponentStats::reset);
    }

    /** {@code {"enabled": true, "components": {"tokenizer": {...}, ...}}}. */
    public static String toJson(boolean enabled, List<ComponentSnapshot> snapshots) {
        StringBuilder sb = new StringBuilder(256 * snapshots.size());
        sb.append("{\"enabled\":").append(enabled).append(",\"components\":{");
        for (int i = 0; i < snapshots.size(); i++) {
            ComponentSnapshot s = snapshots.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append('"').append(s.component().key()).append("\":{")
                    .append("\"calls\":").append(s.calls())
                    .append(",\"errors\":").append(s.errors())
                    .append(",\"error_rate\":").append(format(s.errorRate()))
                    .append(",\"latency_us\":{\"mean\":").append(format(s.meanMicros()))
                    .append(",\"p50\":").append(s.p50Micros())
                    .append(",\"p90\":").append(s.p90Micros())
                    .append(",\"p99\":").append(s.p99Micros())
                    .append(",\"max\":").append(s.maxMicros())
                    .append("},\"input_size\":").append(s.inputSize())
                    .append(",\"output_size\":").append(s.outputSize())
                    .append('}');
        }
        return sb.append("}}").toString();
    }

    /** One header line, then one line per component. */
    public static String toCsv(List<ComponentSnapshot> snapshots) {
        StringBuilder sb = new StringBuilder("component,calls,errors,error_rate,mean_us,p50_us,p90_us,p99_us,max_us,input_size,output_size\n");
        for (ComponentSnapshot s : snapshots) {
            sb.append(s.component().key()).append(',').append(s.calls()).append(',').append(s.errors()).append(',')
                    .append(format(s.errorRate())).append(',').append(format(s.meanMicros())).append(',')
                    .append(s.p50Micros()).append(',').append(s.p90Micros()).append(',').append(s.p99Micros()).append(',')
                    .append(s.maxMicros()).append(',').append(s.inputSize()).append(',').append(s.outputSize()).append('\n');
        }
        return sb.toString();
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
