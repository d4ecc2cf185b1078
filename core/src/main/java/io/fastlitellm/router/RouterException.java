package io.fastlitellm.router;

/**
 * Why the router cannot serve a request: an HTTP status for the client, the model group concerned,
 * a message naming the group and the cause, and when trying again makes sense.
 */
public final class RouterException extends RuntimeException {
    private final int status;
    private final ErrorClass errorClass;
    private final String modelGroup;
    private final long retryAfterMillis;

    public RouterException(int status, ErrorClass errorClass, String modelGroup, long retryAfterMillis, String message) {
        super(message, null, false, false);
        this.status = status;
        this.errorClass = errorClass;
        this.modelGroup = modelGroup;
        this.retryAfterMillis = retryAfterMillis;
    }

    /** HTTP status to answer with (429 when no deployment is available, else the upstream's). */
    public int status() {
        return status;
    }

    public ErrorClass errorClass() {
        return errorClass;
    }

    /** The model group that could not be served (the requested one, after alias resolution). */
    public String modelGroup() {
        return modelGroup;
    }

    /** Milliseconds after which a retry may succeed (for a {@code Retry-After} header), 0 if unknown. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
