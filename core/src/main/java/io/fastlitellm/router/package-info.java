/**
 * LiteLLM's router for the JVM: pick a deployment of a model group with LiteLLM's strategies,
 * cooldowns, retries and fallbacks, in time that does not grow with the number of deployments.
 *
 * <p>What a user needs: {@link io.fastlitellm.router.Router} (build from {@link
 * io.fastlitellm.router.Deployment}s and {@link io.fastlitellm.router.RouterSettings}; route; report),
 * {@link io.fastlitellm.router.RoutingSession} and {@link io.fastlitellm.router.Decision} (retries and
 * fallbacks step by step for asynchronous servers), {@link io.fastlitellm.router.RouterException},
 * and the seams {@link io.fastlitellm.router.DeploymentStateStore} (shared state, e.g. Redis) and
 * {@link io.fastlitellm.router.HeadroomCheck} (the rate limiter). The package-private classes
 * ({@code Pool}, {@code Tier}, {@code MinTree}, {@code SumTree}) are the indexes behind selection and
 * may change at any time.
 */
package io.fastlitellm.router;
