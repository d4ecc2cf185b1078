package io.fastlitellm.router;

/**
 * The pre-call rpm/tpm check ({@code enable_pre_call_checks}): whether a deployment can take one
 * more request of this many tokens. The rate limiter implements it; without one the router uses its
 * own per-minute usage counters against the deployment's {@code rpm}/{@code tpm}.
 * Called on the selection path: must not block.
 */
@FunctionalInterface
public interface HeadroomCheck {
    boolean hasHeadroom(Deployment deployment, long inputTokens);
}
