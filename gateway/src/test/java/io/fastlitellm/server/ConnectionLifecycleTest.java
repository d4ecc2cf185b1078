package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fastlitellm.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Connections that end early, pipelined requests, and graceful shutdown. */
class ConnectionLifecycleTest {

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: slow-stream
                litellm_params: {model: mock/slow, mock_response: "a b c d e f g h i j k l m n o p q r s t", mock_chunk_interval_ms: 100}
              - model_name: fast
                litellm_params: {model: mock/fast, mock_response: "ok"}
            """);

    @Test
    void clientThatDisconnectsMidStreamFreesEverythingAndTheServerKeepsServing() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.gateway().port())) {
            String body = "{\"model\":\"slow-stream\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
            // Read until the first content chunk, then leave mid-stream.
            String line;
            while ((line = in.readLine()) != null && !line.contains("\"content\":\"a\"")) {
                // headers and the role chunk
            }
            assertThat(line).isNotNull();
            assertThat(gw.gateway().inFlight()).isEqualTo(1);
        }
        // The stream would run two more seconds; the server notices the close and frees the request.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gw.gateway().inFlight() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gw.gateway().inFlight()).isZero();
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("fast")).statusCode()).isEqualTo(200);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.gateway().port())) {
            StringBuilder reqs = new StringBuilder();
            for (String model : new String[] {"fast", "nope", "fast"}) {
                String body = GatewayExtension.chat(model);
                reqs.append("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: ")
                        .append(body.length()).append("\r\n\r\n").append(body);
            }
            s.getOutputStream().write(reqs.toString().getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(readStatusAndSkipBody(in)).isEqualTo("HTTP/1.1 200 OK");
            assertThat(readStatusAndSkipBody(in)).isEqualTo("HTTP/1.1 400 Bad Request");
            assertThat(readStatusAndSkipBody(in)).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    private static String readStatusAndSkipBody(BufferedReader in) throws Exception {
        String status = in.readLine();
        int length = 0;
        String line;
        while (!(line = in.readLine()).isEmpty()) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        char[] body = new char[length];
        int read = 0;
        while (read < length) {
            read += in.read(body, read, length - read);
        }
        return status;
    }

    @Test
    void shutdownLetsRequestsInFlightFinishThenRefusesConnections() throws Exception {
        var config = new ConfigLoader(n -> null, w -> { }).parse("""
                model_list:
                  - model_name: slow
                    litellm_params: {model: mock/slow, mock_response: "finished", mock_latency_ms: 400}
                """, "drain-test.yaml");
        Gateway gateway = Gateway.start(config, GatewayOptions.builder().port(0).ioThreads(1).build());
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(gateway.url().resolve("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(GatewayExtension.chat("slow"))).build();
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(req, HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gateway.inFlight() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(gateway.inFlight()).isEqualTo(1);

        boolean drained = gateway.shutdown(Duration.ofSeconds(10));

        assertThat(drained).isTrue();
        HttpResponse<String> res = inFlight.get(5, TimeUnit.SECONDS);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).contains("finished");
        assertThatThrownBy(() -> new Socket("127.0.0.1", gateway.port()).close()).isInstanceOf(ConnectException.class);
    }
}
