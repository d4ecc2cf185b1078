package io.fastlitellm.server;

import io.fastlitellm.provider.ProviderError;
import io.fastlitellm.router.ErrorClass;
import java.util.Locale;

/**
 * Maps a provider's error onto LiteLLM's exception classes, which decide retries and fallbacks.
 * As LiteLLM does, context-window and content-policy errors are recognised by the provider's
 * message and type, since both arrive as a plain 400.
 */
final class ErrorClasses {
    private ErrorClasses() {
    }

    static ErrorClass of(ProviderError e) {
        String m = e.message().toLowerCase(Locale.ROOT);
        String t = e.type() == null ? "" : e.type().toLowerCase(Locale.ROOT);
        if (e.status() == 400 || e.status() == 413 || e.status() == 422) {
            if (t.contains("context_length") || m.contains("context length") || m.contains("context_length_exceeded")
                    || m.contains("maximum context") || m.contains("prompt is too long") || m.contains("too many tokens")) {
                return ErrorClass.CONTEXT_WINDOW_EXCEEDED;
            }
            if (t.contains("content_filter") || t.contains("content_policy") || m.contains("content management policy")
                    || m.contains("content_policy_violation") || m.contains("content filter")) {
                return ErrorClass.CONTENT_POLICY;
            }
        }
        return ErrorClass.fromStatus(e.status());
    }
}
