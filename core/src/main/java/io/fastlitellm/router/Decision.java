package io.fastlitellm.router;

/** What a {@link RoutingSession} asks the caller to do next. */
public sealed interface Decision {

    /**
     * Call this deployment now, then report the outcome with {@link RoutingSession#onSuccess} or
     * {@link RoutingSession#onFailure}.
     *
     * @param attempt  1 for the first call of the session, counting every retry and fallback
     * @param retry    retries already made in this model group (0 on the first call to a group)
     * @param fallback whether {@code modelGroup} is a fallback of the requested group
     */
    record Call(Deployment deployment, String modelGroup, int attempt, int retry, boolean fallback) implements Decision {
    }

    /** Wait this long (without blocking a thread: schedule it), then call {@link RoutingSession#next()}. */
    record Wait(long millis) implements Decision {
    }

    /** Give up: answer the client with this error. Terminal. */
    record Fail(RouterException error) implements Decision {
    }
}
