package io.fastlitellm.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks the caller's key against {@code general_settings.master_key}, read from
 * {@code Authorization: Bearer <key>}, {@code api-key} or {@code x-api-key} as LiteLLM reads it.
 * Comparison is constant-time; a rejected key is never echoed back in full.
 */
final class Auth {
    private Auth() {
    }

    /** The key the request carries, or null. */
    static String presentedKey(HttpHeaders headers) {
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (auth != null) {
            String v = auth.trim();
            if (v.regionMatches(true, 0, "Bearer ", 0, 7)) {
                v = v.substring(7).trim();
            }
            if (!v.isEmpty()) {
                return v;
            }
        }
        String k = headers.get(Headers.API_KEY);
        if (k == null || k.isBlank()) {
            k = headers.get(Headers.X_API_KEY);
        }
        return k == null || k.isBlank() ? null : k.trim();
    }

    /**
     * Who the request comes from; throws a 401 {@link ApiError} unless it carries the master key or
     * a virtual key. With neither configured, the gateway is open.
     */
    static Caller check(ServerContext sc, HttpHeaders headers) {
        if (sc.masterKey == null && sc.virtualKeys.isEmpty()) {
            return Caller.OPEN;
        }
        String key = presentedKey(headers);
        if (key == null) {
            throw new ApiError(401, "auth_error",
                    "Authentication Error: no API key passed. Send it as 'Authorization: Bearer <key>' "
                            + "(or in an 'api-key' or 'x-api-key' header).", null);
        }
        if (sc.masterKey != null && MessageDigest.isEqual(sc.masterKey, key.getBytes(StandardCharsets.UTF_8))) {
            return Caller.MASTER;
        }
        Caller virtual = sc.virtualKeys.get(key);
        if (virtual != null) {
            return virtual;
        }
        throw new ApiError(401, "auth_error",
                "Authentication Error: invalid API key " + redact(key) + ". Check the key you configured.", null);
    }

    static String redact(String key) {
        if (key.length() <= 8) {
            return "(" + key.length() + " characters)";
        }
        return key.substring(0, 3) + "..." + key.substring(key.length() - 4);
    }
}
