package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With general_settings.master_key set, every route but liveliness and readiness needs the key. */
class AuthTest {
    private static final String KEY = "sk-test-master-1234";

    @RegisterExtension
    static final GatewayExtension gw = GatewayExtension.withConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: mock/gpt-4o}
            general_settings:
              master_key: sk-test-master-1234
            """);

    @Test
    void noKeyIs401() throws Exception {
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"));
        assertThat(res.statusCode()).isEqualTo(401);
        assertThat(res.body()).contains("\"code\":\"401\"").contains("Authorization: Bearer");
    }

    @Test
    void wrongKeyIs401AndIsNotEchoedInFull() throws Exception {
        String wrong = "sk-wrong-key-abcdefgh";
        HttpResponse<String> res = gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"),
                "authorization", "Bearer " + wrong);
        assertThat(res.statusCode()).isEqualTo(401);
        assertThat(res.body()).doesNotContain(wrong).doesNotContain(KEY);
    }

    @Test
    void bearerApiKeyAndXApiKeyAreAccepted() throws Exception {
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"), "authorization", "Bearer " + KEY)
                .statusCode()).isEqualTo(200);
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"), "api-key", KEY)
                .statusCode()).isEqualTo(200);
        assertThat(gw.post("/v1/chat/completions", GatewayExtension.chat("gpt-4o"), "x-api-key", KEY)
                .statusCode()).isEqualTo(200);
    }

    @Test
    void modelsAndHealthNeedTheKey() throws Exception {
        assertThat(gw.get("/v1/models").statusCode()).isEqualTo(401);
        assertThat(gw.get("/health").statusCode()).isEqualTo(401);
        assertThat(gw.get("/v1/models", "authorization", "Bearer " + KEY).statusCode()).isEqualTo(200);
    }

    @Test
    void livelinessAndReadinessStayOpen() throws Exception {
        assertThat(gw.get("/health/liveliness").statusCode()).isEqualTo(200);
        assertThat(gw.get("/health/readiness").statusCode()).isEqualTo(200);
    }
}
