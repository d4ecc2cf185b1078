package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.server.Gateway;
import io.fastlitellm.server.GatewayOptions;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A limit check on Redis does not hold the event loop: while Redis sits on a request's key check
 * (and then its deployment check), the gateway's only event loop keeps answering other requests,
 * and the held request is answered once Redis is back, within its budget, by Redis's verdict.
 */
class EventLoopNeverWaitsOnRedisTest {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    private static HttpRequest chat(Gateway gw, String key) {
        return HttpRequest.newBuilder(gw.url().resolve("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
    }

    @Test
    void otherRequestsAreServedWhileRedisHoldsAKeyAndADeploymentCheck() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        var config = new ConfigLoader(name -> null, log::add).parse("""
                model_list:
                  - model_name: m
                    litellm_params: {model: mock/m, rpm: 1000}
                    model_info: {id: m-1}
                router_settings:
                  redis_url: %s
                  redis_timeout_ms: 10000
                general_settings:
                  master_key: sk-master-0000
                virtual_keys:
                  - {key: sk-limited, rpm_limit: 2}
                """.formatted(REDIS.uri()), "config.yaml");
        // One event loop: a loop that waited on Redis could serve nothing else meanwhile.
        try (Gateway gw = Gateway.start(config, GatewayOptions.builder().port(0).ioThreads(1).log(log::add).build())) {
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.send(chat(gw, "sk-limited"), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            // Redis holds every command for 3 s; the budget (10 s) outlasts the pause.
            assertThat(REDIS.command("CLIENT PAUSE 3000 ALL")).isEqualTo("+OK");
            CompletableFuture<HttpResponse<String>> held = http.sendAsync(chat(gw, "sk-limited"),
                    HttpResponse.BodyHandlers.ofString());
            // Served by the same loop while the check above is out on Redis.
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> live = http.send(HttpRequest.newBuilder(gw.url().resolve("/health/liveliness"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(live.statusCode()).isEqualTo(200);
            }
            assertThat(held).as("the held request waits for Redis").isNotDone();
            HttpResponse<String> answer = held.get(15, TimeUnit.SECONDS);
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("x-ratelimit-remaining-requests")).as(log.toString() + answer.headers().map()).hasValue("0");

            // The key's limit is Redis's: the third request in the minute is refused, not a fallback grant.
            HttpResponse<String> third = http.send(chat(gw, "sk-limited"), HttpResponse.BodyHandlers.ofString());
            assertThat(third.statusCode()).isEqualTo(429);
            assertThat(third.body()).contains("key").contains("rpm_limit");
        }
        assertThat(log).noneMatch(m -> m.contains("checking limits on this instance only"));
    }
}
