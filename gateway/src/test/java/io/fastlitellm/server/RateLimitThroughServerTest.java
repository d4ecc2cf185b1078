package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Virtual keys and deployment limits through the real server. The gateway's clock is frozen, so no
 * limit refills during a test: every count below is exact, not statistical.
 */
class RateLimitThroughServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong CLOCK = new AtomicLong(1_000_000_000_000L);

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: mock/gpt-4o, mock_usage: {prompt_tokens: 20, completion_tokens: 10}}
              - model_name: other
                litellm_params: {model: mock/other}
              - model_name: slow
                litellm_params: {model: mock/slow, mock_latency_ms: 1500}
              - model_name: capped
                litellm_params: {model: mock/capped, rpm: 5}
                model_info: {id: dep-capped}
              - model_name: broken
                litellm_params: {model: mock/broken, mock_status: 500}
            router_settings:
              num_retries: 0
            general_settings:
              master_key: sk-master-0000
            virtual_keys:
              - {key: sk-rpm-20, key_alias: twenty, rpm_limit: 20}
              - {key: sk-tpm-100, key_alias: hundred-tokens, tpm_limit: 100}
              - {key: sk-parallel-2, max_parallel_requests: 2, models: [slow]}
              - {key: sk-only-gpt, models: [gpt-4o]}
              - {key: sk-headers, rpm_limit: 50, tpm_limit: 100000}
              - {key: sk-reserve, key_alias: reserve, tpm_limit: 1000}
            """).clock(CLOCK::get);

    private static HttpResponse<String> chat(String key, String model) throws Exception {
        return gw.post("/v1/chat/completions", GatewayExtension.chat(model), "authorization", "Bearer " + key);
    }

    @Test
    void aKeyWithRpmLimit20GetsExactly20AnswersThen429WithRetryAfter() throws Exception {
        for (int i = 1; i <= 20; i++) {
            HttpResponse<String> res = chat("sk-rpm-20", "other");
            assertThat(res.statusCode()).as("request " + i).isEqualTo(200);
            assertThat(res.headers().firstValue("x-ratelimit-limit-requests")).hasValue("20");
            assertThat(res.headers().firstValue("x-ratelimit-remaining-requests")).hasValue(Integer.toString(20 - i));
        }
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> res = chat("sk-rpm-20", "other");
            assertThat(res.statusCode()).isEqualTo(429);
            // 20 a minute is one every 3 s; the clock is frozen, so the next one is exactly 3 s away.
            assertThat(res.headers().firstValue("retry-after")).hasValue("3");
            assertThat(JSON.readTree(res.body()).path("error").path("message").asText())
                    .contains("twenty").contains("rpm");
            assertThat(res.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
        }
        // Another key is not affected.
        assertThat(chat("sk-only-gpt", "gpt-4o").statusCode()).isEqualTo(200);
    }

    @Test
    void aTpmLimitStopsAKeyOnceItsTokensAreSpent() throws Exception {
        int ok = 0;
        HttpResponse<String> last = null;
        for (int i = 0; i < 10; i++) {
            last = chat("sk-tpm-100", "gpt-4o");
            assertThat(last.headers().firstValue("x-ratelimit-limit-tokens")).as("request %d", i + 1).hasValue("100");
            if (last.statusCode() != 200) {
                break;
            }
            ok++;
        }
        // Each answer uses 30 tokens (mock_usage); the reservation is reconciled to that, so the
        // fourth request still fits (90 < 100) and spends past the limit; the fifth is refused.
        assertThat(ok).isEqualTo(4);
        assertThat(last.statusCode()).isEqualTo(429);
        assertThat(JSON.readTree(last.body()).path("error").path("message").asText()).contains("hundred-tokens").contains("tpm");
        assertThat(last.headers().firstValue("retry-after")).isPresent();
    }

    @Test
    void maxParallelRequestsHoldsWithSlowDeployments() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return chat("sk-parallel-2", "slow");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        int ok = 0;
        int limited = 0;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> res = c.get();
            if (res.statusCode() == 200) {
                ok++;
            } else {
                assertThat(res.statusCode()).isEqualTo(429);
                assertThat(res.body()).contains("parallel");
                limited++;
            }
        }
        assertThat(ok).isEqualTo(2);
        assertThat(limited).isEqualTo(3);
        // Slots come back when requests end.
        assertThat(chat("sk-parallel-2", "slow").statusCode()).isEqualTo(200);
    }

    @Test
    void failedAnswersCarryTheRateLimitHeadersToo() throws Exception {
        HttpResponse<String> ok = chat("sk-headers", "other");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("49");
        HttpResponse<String> failed = chat("sk-headers", "broken");
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.headers().firstValue("x-ratelimit-limit-requests")).hasValue("50");
        assertThat(failed.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("48");
        assertThat(failed.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("100000");
        assertThat(failed.headers().firstValue("x-ratelimit-remaining-tokens")).isPresent();
    }

    @Test
    void theReservationIsThePromptPlusMaxTokensAndIsReconciledToTheUsage() throws Exception {
        String tooMuch = "{\"model\":\"gpt-4o\",\"max_tokens\":5000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> alone = gw.post("/v1/chat/completions", tooMuch, "authorization", "Bearer sk-reserve");
        assertThat(alone.statusCode()).isEqualTo(429);
        assertThat(alone.body()).contains("reserve").contains("alone needs more");
        assertThat(alone.headers().firstValue("retry-after")).as("waiting cannot help").isEmpty();
        // max_completion_tokens counts as max_tokens; the 900 reserved come back once the answer
        // reports its usage (mock_usage: 30 tokens).
        String fits = "{\"model\":\"gpt-4o\",\"max_completion_tokens\":900,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> ok = gw.post("/v1/chat/completions", fits, "authorization", "Bearer sk-reserve");
        assertThat(ok.statusCode()).isEqualTo(200);
        // The headers tell the state the request was admitted in, as LiteLLM's pre-call figures:
        // 1000 minus this request's reservation (its prompt P + 900).
        long first = Long.parseLong(ok.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
        assertThat(first).isBetween(1000L - 900 - 20, 1000L - 900 - 1);
        HttpResponse<String> again = gw.post("/v1/chat/completions", fits, "authorization", "Bearer sk-reserve");
        assertThat(again.statusCode()).as("fits only because the first was reconciled to 30").isEqualTo(200);
        assertThat(again.headers().firstValue("x-ratelimit-remaining-tokens")).hasValue(Long.toString(first - 30));
        String over = "{\"model\":\"gpt-4o\",\"max_tokens\":990,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> refused = gw.post("/v1/chat/completions", over, "authorization", "Bearer sk-reserve");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("retry-after")).isPresent();
    }

    @Test
    void aKeyMayOnlyUseItsModels() throws Exception {
        HttpResponse<String> res = chat("sk-only-gpt", "other");
        assertThat(res.statusCode()).isEqualTo(401);
        assertThat(res.body()).contains("other").contains("gpt-4o");
        assertThat(chat("sk-only-gpt", "gpt-4o").statusCode()).isEqualTo(200);
    }

    @Test
    void aDeploymentRpmIsEnforcedForEveryKey() throws Exception {
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> res = chat("sk-master-0000", "capped");
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("x-ratelimit-limit-requests")).hasValue("5");
        }
        HttpResponse<String> res = chat("sk-master-0000", "capped");
        assertThat(res.statusCode()).isEqualTo(429);
        assertThat(res.headers().firstValue("retry-after")).isPresent();
        assertThat(JSON.readTree(res.body()).path("error").path("message").asText()).contains("capped").contains("rpm");
    }

    @Test
    void theMasterKeyIsUnlimitedAndUnknownKeysAreRefused() throws Exception {
        for (int i = 0; i < 30; i++) {
            assertThat(chat("sk-master-0000", "other").statusCode()).isEqualTo(200);
        }
        assertThat(chat("sk-not-a-key", "other").statusCode()).isEqualTo(401);
    }
}
