package io.fastlitellm.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.server.Gateway;
import io.fastlitellm.server.GatewayOptions;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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

    /**
     * One mock deployment with an rpm, limits on this class's Redis with a 10 s budget (longer than
     * any pause here), and the one virtual key given.
     */
    private static io.fastlitellm.config.GatewayConfig config(String virtualKey, List<String> log) {
        return new ConfigLoader(name -> null, log::add).parse("""
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
                  - %s
                """.formatted(REDIS.uri(), virtualKey), "config.yaml");
    }

    @Test
    void otherRequestsAreServedWhileRedisHoldsAKeyAndADeploymentCheck() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        var config = config("{key: sk-limited, rpm_limit: 2}", log);
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

    /**
     * A client that leaves while its request's check is out on Redis loses nothing for the key:
     * the late grant is given back (here the key's only parallel slot), so the next request runs.
     */
    @Test
    void aClientLeavingWhileItsCheckIsOutGivesItsSlotBack() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        var config = config("{key: sk-one-at-a-time, max_parallel_requests: 1}", log);
        try (Gateway gw = Gateway.start(config, GatewayOptions.builder().port(0).log(log::add).build())) {
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.send(chat(gw, "sk-one-at-a-time"), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
            assertThat(REDIS.command("CLIENT PAUSE 1500 ALL")).isEqualTo("+OK");
            try (java.net.Socket client = new java.net.Socket(gw.url().getHost(), gw.url().getPort())) {
                String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
                client.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        + "Authorization: Bearer sk-one-at-a-time\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                client.getOutputStream().flush();
                Thread.sleep(200); // the request is read and its check sent; then the client goes
            }
            // Once Redis answers (after the pause), the grant is given back: the next request runs.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int status;
            do {
                Thread.sleep(100);
                status = http.send(chat(gw, "sk-one-at-a-time"), HttpResponse.BodyHandlers.ofString()).statusCode();
            } while (status != 200 && System.nanoTime() < deadline);
            assertThat(status).as("a request after the abandoned one").isEqualTo(200);
            // That request's own release is sent once its answer is written: nothing stays held.
            String held;
            do {
                held = REDIS.limitInFlight("k", "sk-one-at-a-time");
            } while (!held.equals("0") && System.nanoTime() < deadline && sleep(50));
            assertThat(held).isEqualTo("0");
        }
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }
}
