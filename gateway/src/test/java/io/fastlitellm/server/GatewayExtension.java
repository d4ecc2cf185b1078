package io.fastlitellm.server;

import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.config.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts the real gateway on an ephemeral loopback port for a test class and stops it after;
 * tests talk HTTP to it. Register with {@code @RegisterExtension static GatewayExtension gw =
 * GatewayExtension.withConfig("""yaml""");}. Randomness is seeded so mock failures and
 * deployment picks repeat run after run.
 */
public final class GatewayExtension implements BeforeAllCallback, AfterAllCallback {
    private final java.util.function.Supplier<String> yaml;
    private final List<String> log = new ArrayList<>();
    private long seed = 42;
    private java.util.function.LongSupplier nanoTime = System::nanoTime;
    private Gateway gateway;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private GatewayExtension(java.util.function.Supplier<String> yaml) {
        this.yaml = yaml;
    }

    public static GatewayExtension withConfig(String yaml) {
        return new GatewayExtension(() -> yaml);
    }

    /** A config known only when the class starts (e.g. naming a mock server's port). */
    public static GatewayExtension withConfig(java.util.function.Supplier<String> yaml) {
        return new GatewayExtension(yaml);
    }

    public GatewayExtension seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** The clock limits, cooldowns and the overhead header read (a frozen one makes limits exact to test). */
    public GatewayExtension clock(java.util.function.LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        GatewayConfig config = new ConfigLoader(name -> null, log::add).parse(yaml.get(), "test-config.yaml");
        gateway = Gateway.start(config, GatewayOptions.builder()
                .port(0)
                .ioThreads(1)
                .random(new SplittableRandom(seed))
                .nanoTime(nanoTime)
                .drainTimeout(Duration.ofSeconds(5))
                .log(line -> {
                    synchronized (log) {
                        log.add(line);
                    }
                })
                .build());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (gateway != null) {
            gateway.close();
        }
    }

    public Gateway gateway() {
        return gateway;
    }

    public URI uri(String path) {
        return gateway.url().resolve(path);
    }

    public List<String> log() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    public HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Asserts a 200 answered by deployment {@code modelId} after that many retries (in the group
     * that answered) and fallbacks, as its {@code x-litellm-*} headers say.
     */
    public static void assertServed(HttpResponse<String> res, String modelId, int retries, int fallbacks) {
        org.assertj.core.api.Assertions.assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        org.assertj.core.api.Assertions.assertThat(res.headers().firstValue("x-litellm-model-id")).hasValue(modelId);
        org.assertj.core.api.Assertions.assertThat(res.headers().firstValue("x-litellm-attempted-retries")).hasValue(Integer.toString(retries));
        org.assertj.core.api.Assertions.assertThat(res.headers().firstValue("x-litellm-attempted-fallbacks")).hasValue(Integer.toString(fallbacks));
    }

    /** A chat request body for {@code model} with one user message. */
    public static String chat(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}";
    }
}
