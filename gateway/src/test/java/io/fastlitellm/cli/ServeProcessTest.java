package io.fastlitellm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fast-litellm serve} as a real process: startup line, config errors, SIGTERM drain and exit 0. */
class ServeProcessTest {
    private static final Pattern URL = Pattern.compile("serving (http://\\S+) from");

    private static Process serve(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"),
                "io.fastlitellm.cli.Main", "serve"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }

    @Test
    void sigtermLetsTheRequestInFlightFinishAndExitsZero(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, """
                model_list:
                  - model_name: slow
                    litellm_params: {model: mock/slow, mock_response: "made it", mock_latency_ms: 700}
                """);
        Process p = serve("--port", "0", "--config", config.toString());
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("startup line").isNotNull().contains("slow").contains(config.toString());
            Matcher m = URL.matcher(line);
            assertThat(m.find()).isTrue();
            URI base = URI.create(m.group(1));

            HttpClient client = HttpClient.newHttpClient();
            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                    HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"model\":\"slow\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            // Wait until the server has the request, then ask it to stop.
            for (int i = 0; i < 500; i++) {
                String ready = client.send(HttpRequest.newBuilder(base.resolve("/health/readiness")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (ready.contains("\"in_flight_requests\":2")) {
                    break; // the slow request and this readiness probe
                }
                Thread.sleep(5);
            }
            p.destroy(); // SIGTERM

            HttpResponse<String> res = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("made it");
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aConfigErrorExitsTwoNamingFileAndPath(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "model_list: [{model_name: m, litellm_params: {model: mock/m, rpm: many}}]\n");
        Process p = serve("--port", "0", "--config", config.toString());
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).contains(config + ": model_list[0].litellm_params.rpm: expected an integer, got \"many\"");
    }

    @Test
    void aBadPortIsAUsageError() {
        var err = new java.io.StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new java.io.PrintWriter(err));
        assertThat(cl.execute("serve", "--port", "70000")).isEqualTo(2);
        assertThat(err.toString()).contains("--port 70000 (expected: 0..65535)");
    }
}
