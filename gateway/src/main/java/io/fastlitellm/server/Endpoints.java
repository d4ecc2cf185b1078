package io.fastlitellm.server;

import com.fasterxml.jackson.core.JsonGenerator;
import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.provider.OpenAiWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.fastlitellm.stats.ComponentSnapshot;
import io.fastlitellm.upstream.PoolStats;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** The bodies of the small read-only endpoints: {@code /v1/models} and the health routes. */
final class Endpoints {
    private Endpoints() {
    }

    /** OpenAI's model list: every model group and alias a client may name. */
    static ByteBuf models(ByteBufAllocator alloc, ServerContext sc) {
        return write(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (String name : sc.servedNames()) {
                g.writeStartObject();
                g.writeStringField("id", name);
                g.writeStringField("object", "model");
                g.writeNumberField("created", sc.startedEpochSeconds);
                g.writeStringField("owned_by", "fast-litellm");
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /**
     * LiteLLM's {@code /health} shape: deployments split into healthy and unhealthy. A deployment is
     * unhealthy when its provider is not available in this build or, for the mock provider, when it
     * is configured to fail every call.
     */
    static ByteBuf health(ByteBufAllocator alloc, ServerContext sc) {
        return write(alloc, g -> {
            int healthy = 0;
            int unhealthy = 0;
            g.writeStartObject();
            g.writeArrayFieldStart("healthy_endpoints");
            for (DeploymentConfig d : sc.config.deployments()) {
                if (problem(sc, d) == null) {
                    endpoint(g, d, null);
                    healthy++;
                }
            }
            g.writeEndArray();
            g.writeArrayFieldStart("unhealthy_endpoints");
            for (DeploymentConfig d : sc.config.deployments()) {
                String problem = problem(sc, d);
                if (problem != null) {
                    endpoint(g, d, problem);
                    unhealthy++;
                }
            }
            g.writeEndArray();
            g.writeNumberField("healthy_count", healthy);
            g.writeNumberField("unhealthy_count", unhealthy);
            g.writeEndObject();
        });
    }

    /** Readiness: healthy while serving, 'draining' once shutdown began. */
    static ByteBuf readiness(ByteBufAllocator alloc, ServerContext sc) {
        return write(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("status", sc.draining.get() ? "draining" : "healthy");
            g.writeStringField("db", "Not connected");
            g.writeNullField("cache");
            g.writeStringField("litellm_version", Version.VERSION);
            g.writeNumberField("in_flight_requests", sc.inFlight.get());
            g.writeEndObject();
        });
    }

    private static String problem(ServerContext sc, DeploymentConfig d) {
        if (!sc.providers.containsKey(d.provider())) {
            return "provider '" + d.provider() + "' is not supported by this build";
        }
        if (d.mock() != null && d.mock().alwaysFails()) {
            return "mock deployment configured to fail every call with status "
                    + (d.mock().status() != 0 ? d.mock().status() : 500);
        }
        return null;
    }

    private static void endpoint(JsonGenerator g, DeploymentConfig d, String error) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", d.model());
        g.writeStringField("model_name", d.modelName());
        g.writeStringField("model_id", d.id());
        g.writeStringField("api_base", d.apiBase());
        if (error != null) {
            g.writeStringField("error", error);
        }
        g.writeEndObject();
    }

    /** {@code GET /stats}: every component (or the one named), the switches, strategy and pool. */
    static ByteBuf stats(ByteBufAllocator alloc, ServerContext sc, List<ComponentSnapshot> snapshots) {
        return write(alloc, g -> {
            g.writeStartObject();
            g.writeBooleanField("enabled", sc.stats.enabled());
            g.writeObjectFieldStart("components");
            for (ComponentSnapshot s : snapshots) {
                g.writeObjectFieldStart(s.component().key());
                g.writeNumberField("calls", s.calls());
                g.writeNumberField("errors", s.errors());
                g.writeNumberField("error_rate", s.errorRate());
                g.writeObjectFieldStart("latency_us");
                g.writeNumberField("mean", s.meanMicros());
                g.writeNumberField("p50", s.p50Micros());
                g.writeNumberField("p90", s.p90Micros());
                g.writeNumberField("p99", s.p99Micros());
                g.writeNumberField("max", s.maxMicros());
                g.writeEndObject();
                g.writeNumberField("input_size", s.inputSize());
                g.writeNumberField("output_size", s.outputSize());
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeObjectFieldStart("switches");
            for (Map.Entry<String, Boolean> e : sc.config.switches().asMap().entrySet()) {
                g.writeBooleanField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeStringField("routing_strategy", sc.router.settings().routingStrategy().configName());
            PoolStats p = sc.upstreamStats.get();
            g.writeObjectFieldStart("upstream_pool");
            g.writeNumberField("open", p.open());
            g.writeNumberField("idle", p.idle());
            g.writeNumberField("in_use", p.inUse());
            g.writeNumberField("created", p.created());
            g.writeNumberField("reused", p.reused());
            g.writeNumberField("waiting", p.waiting());
            g.writeNumberField("acquire_wait_p50_us", p.acquireWaitP50Micros());
            g.writeNumberField("acquire_wait_p99_us", p.acquireWaitP99Micros());
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** {@code GET /stats/recommendations}. */
    static ByteBuf recommendations(ByteBufAllocator alloc, ServerContext sc) {
        List<Recommendations.Item> items = Recommendations.compute(sc, sc.upstreamStats.get());
        return write(alloc, g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("recommendations");
            for (Recommendations.Item i : items) {
                g.writeStartObject();
                g.writeStringField("component", i.component());
                g.writeStringField("message", i.message());
                g.writeStringField("figure", i.figure());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static ByteBuf write(ByteBufAllocator alloc, OpenAiWire.JsonWriter body) {
        return OpenAiWire.write(alloc, 256, body);
    }
}
