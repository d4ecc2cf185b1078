package io.fastlitellm.provider;

/**
 * A failed provider call, already mapped to what the client should see: the HTTP status, an
 * OpenAI error {@code type}, and a message that names the deployment and the cause.
 *
 * @param status HTTP status for the client (the upstream's, or ours for local failures)
 * @param type OpenAI error type, e.g. {@code rate_limit_error}
 * @param message what happened and, where it helps, what to do
 * @param retryAfterSeconds the upstream's {@code Retry-After}, or 0 when it sent none
 */
public record ProviderError(int status, String type, String message, long retryAfterSeconds) {
}
