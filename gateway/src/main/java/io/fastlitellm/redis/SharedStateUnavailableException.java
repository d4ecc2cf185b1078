package io.fastlitellm.redis;

/**
 * Redis could not answer within the budget (down, unreachable, too slow) and the failure policy is
 * {@link RedisSettings.FailurePolicy#REFUSE}: the request must be refused with 503, not checked
 * against limits that may not hold. Also the cause inside this package of every fallback.
 */
public final class SharedStateUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SharedStateUnavailableException(String message) {
        super(message, null, false, false);
    }

    public SharedStateUnavailableException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
