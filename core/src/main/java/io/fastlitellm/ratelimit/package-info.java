/**
 * Rate limits for a gateway: exact, cheap, and small enough for millions of keys.
 *
 * <p>What a user needs, from the top:
 * <ul>
 *   <li>{@link io.fastlitellm.ratelimit.RateLimiter}: the per-request entry point. One call checks
 *       and consumes every limit of a key (and, optionally, of the deployment it was routed to)
 *       all or none, and returns a {@link io.fastlitellm.ratelimit.Permit} that carries the verdict,
 *       the retry-after, the header figures, and later reconciles tokens and releases the parallel
 *       slot.</li>
 *   <li>{@link io.fastlitellm.ratelimit.Limits}: one key's or deployment's limits (requests,
 *       tokens, requests in flight), built once from configuration and shared by every check.</li>
 *   <li>{@link io.fastlitellm.ratelimit.LimitStore}: where the state lives. {@link
 *       io.fastlitellm.ratelimit.LimitStore#inMemory(int)} is a lock-free open-addressing table of
 *       under 64 bytes a key; a Redis store implements the same interface with one script a
 *       check.</li>
 *   <li>{@link io.fastlitellm.ratelimit.TokenBucket} and {@link
 *       io.fastlitellm.ratelimit.SlidingWindow}: single {@link io.fastlitellm.ratelimit.RateLimit}s
 *       over requests or tokens, combined all-or-none by {@link
 *       io.fastlitellm.ratelimit.RateLimit#tryAcquireAll}.</li>
 * </ul>
 *
 * <p>Time is always injected as nanoseconds from one monotonic clock (a {@link
 * io.fastlitellm.ratelimit.TickingClock} or {@code System::nanoTime} in production, a fake in
 * tests); no limiter reads a clock on its own.
 */
package io.fastlitellm.ratelimit;
