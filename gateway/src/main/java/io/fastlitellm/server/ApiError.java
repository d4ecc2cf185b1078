package io.fastlitellm.server;

/**
 * An error answered to the client in OpenAI's shape. Thrown while handling a request and turned
 * into {@code {"error": {...}}} with {@link #status()} by the handler; never shows a stack trace.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;

    ApiError(int status, String type, String message, String param) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    static ApiError badRequest(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param);
    }

    int status() {
        return status;
    }
}
