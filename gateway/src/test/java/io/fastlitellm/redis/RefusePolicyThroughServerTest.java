package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.server.Gateway;
import io.fastlitellm.server.GatewayOptions;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@code redis_failure_policy: refuse} through the real server: with Redis unreachable a request
 * under a key's limits gets a 503 that says why, promptly, never a 500; a request with no limit to
 * check is served as usual.
 */
class RefusePolicyThroughServerTest {

    @Test
    void aKeyedRequestIsRefusedWith503WhileRedisIsUnreachable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        List<String> log = new CopyOnWriteArrayList<>();
        var config = new ConfigLoader(name -> null, log::add).parse("""
                model_list:
                  - model_name: m
                    litellm_params: {model: mock/m}
                router_settings:
                  redis_host: 127.0.0.1
                  redis_port: %d
                  redis_failure_policy: refuse
                general_settings:
                  master_key: sk-master-0000
                virtual_keys:
                  - {key: sk-limited, rpm_limit: 10}
                """.formatted(port), "config.yaml");
        try (Gateway gw = Gateway.start(config, GatewayOptions.builder().port(0).log(log::add).build())) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(gw.url().resolve("/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10))
                    .header("authorization", "Bearer sk-limited")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(503);
            assertThat(res.body()).contains("service_unavailable").contains("redis_failure_policy: refuse")
                    .contains("127.0.0.1:" + port);
            HttpResponse<String> master = http.send(HttpRequest.newBuilder(gw.url().resolve("/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10))
                    .header("authorization", "Bearer sk-master-0000")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(master.statusCode()).isEqualTo(200);
        }
        assertThat(log).anyMatch(m -> m.contains("is not reachable") && m.contains("redis_failure_policy: refuse"));
    }
}
