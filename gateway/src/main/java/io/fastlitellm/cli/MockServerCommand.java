package io.fastlitellm.cli;

import io.fastlitellm.mockserver.MockServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fast-litellm mock-server}: a stand-alone OpenAI/Anthropic upstream for tests and benchmarks. */
@Command(name = "mock-server", mixinStandardHelpOptions = true,
        description = {"Run a local upstream speaking OpenAI (chat, streaming, completions, embeddings, Azure paths)",
                "and Anthropic Messages (with streaming). Requests steer it with x-mock-* headers:",
                "x-mock-latency-ms, x-mock-status, x-mock-retry-after, x-mock-response, x-mock-chunks,",
                "x-mock-chunk-interval-ms, x-mock-cut-after, x-mock-finish-reason. GET /mock/stats counts connections and requests."})
final class MockServerCommand implements Callable<Integer> {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8090", description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--latency-ms", defaultValue = "0", description = "Delay before every answer unless x-mock-latency-ms says otherwise (default: ${DEFAULT-VALUE}).")
    long latencyMs;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            System.err.println("fast-litellm mock-server: --port " + port + " (expected: 0..65535)");
            return 2;
        }
        if (latencyMs < 0) {
            System.err.println("fast-litellm mock-server: --latency-ms " + latencyMs + " (expected: >= 0)");
            return 2;
        }
        try (MockServer server = MockServer.start(host, port, latencyMs, null)) {
            System.out.println("fast-litellm mock-server serving " + server.url() + " (OpenAI /v1/chat/completions, "
                    + "/v1/completions, /v1/embeddings; Anthropic /v1/messages)");
            System.out.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Signals.onTermination(stop::countDown);
            stop.await();
        }
        return 0;
    }
}
