package io.fastlitellm.router;

import java.util.List;

/**
 * One request's way through retries, waits and fallbacks, step by step so that an asynchronous
 * server never blocks: call {@link #next()}; on {@link Decision.Call} make the call and report it with
 * {@link #onSuccess} or {@link #onFailure}; on {@link Decision.Wait} schedule {@link #next()} after the
 * delay; {@link Decision.Fail} is the end. Every session ends in a success or a {@code Fail} naming
 * the model group and the cause: the number of calls is bounded by
 * {@code (retries + 1) x (1 + max_fallbacks)}.
 *
 * <p>LiteLLM's rules ({@code async_function_with_fallbacks}, {@code async_function_with_retries},
 * {@code should_retry_this_error}, {@code _time_to_sleep_before_retry}):
 * <ul>
 * <li>A failure is retried in the same group up to {@code retry_policy}'s count for its class, else
 * {@code num_retries}; except, straight to fallbacks: a context-window or content-policy error when a
 * matching fallback list exists, a 404, and a rate-limit or auth error when no deployment of the
 * group is out of cooldown.</li>
 * <li>No wait before a retry while another deployment of the group is out of cooldown; otherwise the
 * upstream's Retry-After (when within 60 s), else 0.5 s x 2^(retry - 1) capped at 8 s, times a jitter
 * in (0.75, 1].</li>
 * <li>When the group is exhausted, the fallback list for the error ({@code context_window_fallbacks},
 * {@code content_policy_fallbacks}, else {@code fallbacks}; {@code "*"} as default) is tried in
 * order, each group with fresh retries, at most {@code max_fallbacks} groups.</li>
 * </ul>
 * Not thread-safe: one session belongs to one request, driven by one thread at a time.
 */
public final class RoutingSession {
    private enum Phase { READY, WAITING, CALLING, STREAMING, SUCCEEDED, FAILED }

    private final Router router;
    private final RouteRequest request;
    private final String requestedGroup;
    private Object target; // Router.Group or a Deployment (a deployment id was requested)
    private Pool pool;
    private String group;
    private Phase phase = Phase.READY;
    private long waitMillis;
    private int attempts;
    private int retries;
    private int fallbacks;
    private List<String> fallbackList;
    private int fallbackIndex;
    private int current = -1;
    private Deployment served;
    private RouterException failure;
    private String lastCause;
    private int lastStatus;
    private ErrorClass lastClass;

    RoutingSession(Router router, String model, RouteRequest request) {
        this.router = router;
        this.request = request;
        String g = router.groupName(model);
        this.requestedGroup = g != null ? g : String.valueOf(model);
        try {
            enter(model);
        } catch (RouterException e) {
            fail(e);
        }
    }

    private void enter(String model) {
        target = router.resolve(model);
        if (target instanceof Deployment d) {
            group = d.modelName();
            pool = null;
        } else {
            Router.Group g = (Router.Group) target;
            group = g.name;
            pool = router.pool(g, request.tags());
        }
        retries = 0;
        phase = Phase.READY;
    }

    /** The next step. Call it first, after every report and after every {@code Wait}. */
    public Decision next() {
        switch (phase) {
            case CALLING -> throw new IllegalStateException("next(): the call to deployment '" + router.deployment(current).id()
                    + "' has not been reported (expected: onSuccess or onFailure first)");
            case SUCCEEDED, STREAMING -> throw new IllegalStateException("next(): the session already succeeded on deployment '" + served.id() + "'");
            case FAILED -> {
                return new Decision.Fail(failure);
            }
            case WAITING -> {
                phase = Phase.READY;
                return new Decision.Wait(waitMillis);
            }
            case READY -> {
            }
        }
        while (phase == Phase.READY) {
            int d;
            try {
                d = pool == null ? router.slot((Deployment) target) : router.select(pool, request, router.now());
            } catch (RouterException e) {
                lastStatus = e.status();
                lastClass = e.errorClass();
                lastCause = e.getMessage();
                exhausted(e.errorClass(), e);
                continue;
            }
            current = d;
            attempts++;
            phase = Phase.CALLING;
            router.recordStart(d);
            return new Decision.Call(router.deployment(d), group, attempts, retries, fallbacks > 0);
        }
        return next();
    }

    /**
     * The first bytes of a streamed answer went to the client: the session is committed to this
     * deployment (no retry or fallback any more), which stays in flight until
     * {@link #onStreamEnd}. As LiteLLM logs a stream's success when it ends, its latency, time to
     * first token and tokens are reported then, with the stream's real completion tokens.
     */
    public void onStreamStart() {
        requireCalling("onStreamStart");
        served = router.deployment(current);
        phase = Phase.STREAMING;
    }

    /** The stream begun by {@link #onStreamStart} ended; the figures are as for {@link #onSuccess}. */
    public void onStreamEnd(long latencyNanos, long ttftNanos, long promptTokens, long completionTokens) {
        if (phase != Phase.STREAMING) {
            throw new IllegalStateException("onStreamEnd(): no stream in progress (expected: after onStreamStart)");
        }
        router.recordSuccess(current, latencyNanos, ttftNanos, promptTokens, completionTokens);
        phase = Phase.SUCCEEDED;
    }

    /** Reports that the call succeeded. */
    public void onSuccess(long latencyNanos, long ttftNanos, long promptTokens, long completionTokens) {
        requireCalling("onSuccess");
        router.recordSuccess(current, latencyNanos, ttftNanos, promptTokens, completionTokens);
        served = router.deployment(current);
        phase = Phase.SUCCEEDED;
    }

    /**
     * Reports that the call failed.
     *
     * @param status           the upstream's HTTP status, 0 for a connection error
     * @param retryAfterMillis the upstream's Retry-After in milliseconds, or 0
     * @param errorClass       the failure's class (see {@link ErrorClass#fromStatus})
     */
    public void onFailure(int status, long retryAfterMillis, ErrorClass errorClass) {
        requireCalling("onFailure");
        ErrorClass cls = errorClass != null ? errorClass : ErrorClass.fromStatus(status);
        router.recordFailure(current, status, retryAfterMillis, cls);
        Deployment d = router.deployment(current);
        lastStatus = status <= 0 ? 500 : status;
        lastClass = cls;
        lastCause = "deployment '" + d.id() + "' failed with " + (status <= 0 ? "a connection error" : "status " + status) + " (" + cls + ")";
        if (shouldRetry(cls)) {
            retries++;
            waitMillis = waitBeforeRetry(retryAfterMillis);
            phase = waitMillis > 0 ? Phase.WAITING : Phase.READY;
        } else {
            phase = Phase.READY;
            exhausted(cls, null);
        }
    }

    /**
     * The caller gives up on the session (its client went away). A call in progress is neither a
     * success nor a failure of the deployment: only its in-flight count is given back, so
     * least-busy routing stays exact. Idempotent; the session answers {@code Fail} afterwards.
     */
    public void abandon() {
        if (phase == Phase.CALLING || phase == Phase.STREAMING) {
            router.recordAbandon(current);
        }
        if (phase == Phase.STREAMING) {
            phase = Phase.SUCCEEDED; // the client had its answer's start: served stays as it is
        } else if (phase != Phase.FAILED && phase != Phase.SUCCEEDED) {
            fail(new RouterException(499, ErrorClass.BAD_REQUEST, requestedGroup, 0, "the client closed the request"));
        }
    }

    private void requireCalling(String method) {
        if (phase != Phase.CALLING) {
            throw new IllegalStateException(method + "(): no call in progress (expected: after next() returned a Call)");
        }
    }

    private boolean shouldRetry(ErrorClass cls) {
        int allowed = router.settings().retryPolicy().retriesFor(cls, router.settings().numRetries());
        if (retries >= allowed) return false;
        if (cls == ErrorClass.NOT_FOUND) return false;
        if ((cls == ErrorClass.CONTEXT_WINDOW_EXCEEDED || cls == ErrorClass.CONTENT_POLICY)
                && router.hasSpecificFallback(requestedGroup, cls)) {
            return false;
        }
        if ((cls == ErrorClass.RATE_LIMIT || cls == ErrorClass.AUTHENTICATION) && pool != null
                && !router.hasOtherHealthy(pool, -1, router.now())) {
            return false;
        }
        return true;
    }

    private long waitBeforeRetry(long retryAfterMillis) {
        if (pool == null || router.hasOtherHealthy(pool, current, router.now())) return 0;
        if (retryAfterMillis > 0 && retryAfterMillis <= 60_000) return retryAfterMillis;
        double seconds = Math.min(0.5 * Math.pow(2, retries - 1), 8.0);
        double jitter = 1 - 0.25 * router.random().nextDouble();
        return Math.max(1, Math.round(seconds * jitter * 1000));
    }

    /** The current group cannot serve: move to the next fallback group, or fail. */
    private void exhausted(ErrorClass cls, RouterException cause) {
        if (fallbackList == null) fallbackList = router.fallbacksFor(requestedGroup, cls);
        int max = router.settings().maxFallbacks();
        while (fallbackIndex < fallbackList.size() && fallbacks < max) {
            String next = fallbackList.get(fallbackIndex++);
            if (next.equals(group)) continue;
            fallbacks++;
            try {
                enter(next);
                return;
            } catch (RouterException e) {
                lastCause = "fallback '" + next + "': " + e.getMessage();
                lastStatus = e.status();
                lastClass = e.errorClass();
            }
        }
        String tried = fallbacks == 0 ? "" : " and " + fallbacks + " fallback group(s)";
        String msg = cause != null && fallbacks == 0 && attempts == 0
                ? cause.getMessage()
                : "Model group '" + requestedGroup + "' could not be served after " + attempts + " call(s)" + tried + ": " + lastCause;
        long retryAfter = cause != null ? cause.retryAfterMillis() : 0;
        fail(new RouterException(lastStatus, lastClass, requestedGroup, retryAfter, msg));
    }

    private void fail(RouterException e) {
        failure = e;
        phase = Phase.FAILED;
    }

    /** {@code x-litellm-attempted-retries}: retries made in the group that answered (or failed last). */
    public int attemptedRetries() {
        return retries;
    }

    /**
     * LiteLLM's {@code _should_raise_content_policy_error}: whether an answer that ended with
     * {@code finish_reason: "content_filter"} is to be reported as a content-policy failure (and so
     * fall back) rather than returned: only when the group now being called has a
     * {@code content_policy_fallbacks} entry, its own or {@code "*"}.
     */
    public boolean contentFilterFallsBack() {
        return group != null && router.hasSpecificFallback(group, ErrorClass.CONTENT_POLICY);
    }

    /** {@code x-litellm-attempted-fallbacks}: fallback groups entered. */
    public int attemptedFallbacks() {
        return fallbacks;
    }

    /** The deployment that served the request ({@code x-litellm-model-id}), or null before success. */
    public Deployment servedDeployment() {
        return served;
    }

    /** The model group being tried now ({@code x-litellm-model-group} once served). */
    public String modelGroup() {
        return group != null ? group : requestedGroup;
    }

    /** Calls made so far. */
    public int attempts() {
        return attempts;
    }
}
