package io.fastlitellm.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.fastlitellm.provider.ProviderError;
import io.fastlitellm.router.ErrorClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Provider errors onto LiteLLM's exception classes: the class decides retries (retry_policy) and
 * which fallback list applies, so a context-window or content-policy error misread as a plain bad
 * request would skip its fallback.
 */
class ErrorClassesTest {

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            400 | invalid_request_error | This model's maximum context length is 8192 tokens. However, you requested 9000 | CONTEXT_WINDOW_EXCEEDED
            400 | -                     | {"code": "context_length_exceeded"}                                           | CONTEXT_WINDOW_EXCEEDED
            400 | invalid_request_error | prompt is too long: 210000 tokens > 200000 maximum                           | CONTEXT_WINDOW_EXCEEDED
            413 | -                     | Request has too many tokens                                                  | CONTEXT_WINDOW_EXCEEDED
            400 | content_filter        | The response was filtered                                                    | CONTENT_POLICY
            400 | invalid_request_error | The response was filtered due to the prompt triggering Azure OpenAI's content management policy | CONTENT_POLICY
            400 | invalid_request_error | content_policy_violation: Your request was rejected                          | CONTENT_POLICY
            400 | invalid_request_error | 'messages' must contain the word 'json'                                     | BAD_REQUEST
            422 | -                     | unprocessable                                                                | BAD_REQUEST
            500 | api_error             | maximum context length is 8192 tokens                                        | SERVER_ERROR
            429 | rate_limit_error      | Rate limit reached                                                           | RATE_LIMIT
            401 | authentication_error  | Incorrect API key                                                            | AUTHENTICATION
            403 | -                     | forbidden                                                                    | AUTHENTICATION
            404 | not_found_error       | The model does not exist                                                     | NOT_FOUND
            408 | timeout               | no answer in time                                                            | TIMEOUT
            502 | api_error             | connection refused                                                           | SERVER_ERROR
            """)
    void mapsStatusTypeAndMessageLikeLiteLlm(int status, String type, String message, ErrorClass expected) {
        assertThat(ErrorClasses.of(new ProviderError(status, type, message, 0))).isEqualTo(expected);
    }
}
