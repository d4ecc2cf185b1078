package io.fastlitellm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code fast-litellm mock-server} as a real process: it serves, reports its URL, stops on SIGTERM. */
class MockServerCommandTest {

    @Test
    void servesOpenAiChatAndStopsCleanly() throws Exception {
        Process p = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), "io.fastlitellm.cli.Main",
                "mock-server", "--port", "0", "--latency-ms", "1")).start();
        try {
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertThat(line).contains("mock-server serving http://127.0.0.1:");
            URI base = URI.create(line.replaceAll(".*serving (http://\\S+) .*", "$1"));
            HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                    .header("x-mock-response", "pong").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("\"content\":\"pong\"");
            p.destroy();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void badArgumentsAreAUsageError() {
        assertThat(Main.commandLine().execute("mock-server", "--port", "-5")).isEqualTo(2);
        assertThat(Main.commandLine().execute("mock-server", "--latency-ms", "-1")).isEqualTo(2);
    }
}
