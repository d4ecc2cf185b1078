package io.fastlitellm.server;

import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.provider.ApiKind;
import io.fastlitellm.provider.ChatCall;
import io.fastlitellm.provider.ChatSink;
import io.fastlitellm.provider.OpenAiWire;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.provider.ProviderError;
import io.fastlitellm.provider.Usage;
import io.fastlitellm.ratelimit.Limits;
import io.fastlitellm.ratelimit.Permit;
import io.fastlitellm.ratelimit.RateLimiter;
import io.fastlitellm.router.Decision;
import io.fastlitellm.router.ErrorClass;
import io.fastlitellm.router.RouteRequest;
import io.fastlitellm.router.RouterException;
import io.fastlitellm.router.RoutingSession;
import io.fastlitellm.stats.Component;
import io.fastlitellm.stats.ComponentSnapshot;
import io.fastlitellm.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The request path, one instance per connection: accept, authenticate, read the request, pick a
 * deployment, call its provider, write the answer (JSON or SSE), record. Open this class to follow
 * a request from end to end.
 *
 * <p>Concurrency: all state is confined to the connection's event loop (plain fields, no locks).
 * One request is handled at a time per connection; pipelined requests wait in {@link #queued}
 * with reading paused, so answers keep their order and memory stays bounded. Every accepted
 * request ends exactly once ({@link Exchange#finish()}), whether answered, failed or abandoned by
 * the client, which is what graceful shutdown counts on.
 */
final class GatewayHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final ByteBuf DATA = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(6).writeBytes("data: ".getBytes(StandardCharsets.US_ASCII))).asReadOnly();
    private static final ByteBuf EVENT_END = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(2).writeBytes("\n\n".getBytes(StandardCharsets.US_ASCII))).asReadOnly();
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    /** A deployment with no rpm/tpm, for checking a key alone through the key-and-deployment call. */
    private static final Limits UNLIMITED_DEPLOYMENT = Limits.deployment(Limits.UNLIMITED, Limits.UNLIMITED);

    private final ServerContext sc;
    private final ChatRequestReader reader;
    private Exchange current;
    /** Pipelined requests waiting their turn; bounded by what one read can hold, since reading pauses. */
    private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>(2);

    GatewayHandler(ServerContext sc) {
        super(false);
        this.sc = sc;
        this.reader = new ChatRequestReader(sc.json);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (current != null) {
            // HTTP/1.1 pipelining: hold this one until the answer in progress is written.
            queued.add(req);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        try {
            handle(ctx, req);
        } finally {
            req.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        long t0 = sc.options.nanoTime().getAsLong();
        boolean keepAlive = HttpUtil.isKeepAlive(req) && !sc.draining.get();
        Exchange ex = new Exchange(ctx, keepAlive, t0);
        current = ex;
        sc.inFlight.incrementAndGet();
        try {
            if (req.decoderResult().isFailure()) {
                ex.keepAlive = false;
                throw ApiError.badRequest("Malformed HTTP request: " + req.decoderResult().cause().getMessage(), null);
            }
            if (sc.draining.get()) {
                throw new ApiError(503, "service_unavailable", "The gateway is shutting down; retry on another instance.", null);
            }
            dispatch(ctx, req, ex);
        } catch (RuntimeException e) {
            ex.answerFailure(e, req.method() + " " + req.uri());
        }
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest req, Exchange ex) {
        String path = new QueryStringDecoder(req.uri()).path();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        HttpMethod method = req.method();
        switch (path) {
            case "/v1/chat/completions", "/chat/completions" -> {
                requireMethod(method, HttpMethod.POST, ex);
                chat(ctx, req, ex, null, Auth.check(sc, req.headers()), ApiKind.CHAT);
            }
            case "/v1/completions", "/completions" -> {
                requireMethod(method, HttpMethod.POST, ex);
                chat(ctx, req, ex, null, Auth.check(sc, req.headers()), ApiKind.COMPLETION);
            }
            case "/v1/embeddings", "/embeddings" -> {
                requireMethod(method, HttpMethod.POST, ex);
                chat(ctx, req, ex, null, Auth.check(sc, req.headers()), ApiKind.EMBEDDING);
            }
            case "/v1/models", "/models" -> {
                requireMethod(method, HttpMethod.GET, ex);
                Auth.check(sc, req.headers());
                ex.sendJson(HttpResponseStatus.OK, Endpoints.models(ctx.alloc(), sc));
            }
            case "/health" -> {
                requireMethod(method, HttpMethod.GET, ex);
                Auth.check(sc, req.headers());
                ex.sendJson(HttpResponseStatus.OK, Endpoints.health(ctx.alloc(), sc));
            }
            case "/stats" -> {
                requireMethod(method, HttpMethod.GET, ex);
                Auth.check(sc, req.headers());
                QueryStringDecoder q = new QueryStringDecoder(req.uri());
                List<ComponentSnapshot> snapshots;
                String only = q.parameters().containsKey("component") ? q.parameters().get("component").get(0) : null;
                if (only != null) {
                    Component c = Component.fromKey(only);
                    if (c == null) {
                        throw ApiError.badRequest("Unknown component '" + only + "' (expected one of: "
                                + java.util.Arrays.stream(Component.values()).map(Component::key)
                                .collect(java.util.stream.Collectors.joining(", ")) + ")", "component");
                    }
                    snapshots = List.of(sc.stats.snapshot(c));
                } else {
                    snapshots = sc.stats.snapshot();
                }
                String format = q.parameters().containsKey("format") ? q.parameters().get("format").get(0) : "json";
                if (format.equals("csv")) {
                    ex.sendText(HttpResponseStatus.OK, "text/csv; charset=utf-8", Stats.toCsv(snapshots));
                } else if (format.equals("json")) {
                    ex.sendJson(HttpResponseStatus.OK, Endpoints.stats(ctx.alloc(), sc, snapshots));
                } else {
                    throw ApiError.badRequest("Unknown format '" + format + "' (expected: json or csv)", "format");
                }
            }
            case "/stats/recommendations" -> {
                requireMethod(method, HttpMethod.GET, ex);
                Auth.check(sc, req.headers());
                ex.sendJson(HttpResponseStatus.OK, Endpoints.recommendations(ctx.alloc(), sc));
            }
            case "/metrics" -> {
                requireMethod(method, HttpMethod.GET, ex);
                Auth.check(sc, req.headers());
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(8192);
                try {
                    sc.metrics.write(out);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                ex.sendText(HttpResponseStatus.OK, io.fastlitellm.metrics.GatewayMetrics.contentType(), out.toString(StandardCharsets.UTF_8));
            }
            case "/health/liveliness", "/health/liveness" -> {
                requireMethod(method, HttpMethod.GET, ex);
                ex.sendJson(HttpResponseStatus.OK, Unpooled.copiedBuffer("\"I'm alive!\"", StandardCharsets.UTF_8));
            }
            case "/health/readiness" -> {
                requireMethod(method, HttpMethod.GET, ex);
                ex.sendJson(HttpResponseStatus.OK, Endpoints.readiness(ctx.alloc(), sc));
            }
            default -> {
                for (ApiKind kind : ApiKind.values()) {
                    String azureModel = azureDeployment(path, kind);
                    if (azureModel != null) {
                        requireMethod(method, HttpMethod.POST, ex);
                        chat(ctx, req, ex, azureModel, Auth.check(sc, req.headers()), kind);
                        return;
                    }
                }
                throw new ApiError(404, "not_found_error", "No route for " + path
                        + ". Routes: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /health, "
                        + "/health/liveliness, /health/readiness, /openai/deployments/{model}/chat/completions.", null);
            }
        }
    }

    /** The model of an Azure-style path {@code /openai/deployments/{model}/chat/completions} (etc.), else null. */
    private static String azureDeployment(String path, ApiKind kind) {
        String prefix = "/openai/deployments/";
        String suffix = kind.path();
        if (path.startsWith(prefix) && path.endsWith(suffix) && path.length() > prefix.length() + suffix.length()) {
            String model = path.substring(prefix.length(), path.length() - suffix.length());
            return model.indexOf('/') < 0 ? QueryStringDecoder.decodeComponent(model) : null;
        }
        return null;
    }

    private static void requireMethod(HttpMethod actual, HttpMethod allowed, Exchange ex) {
        if (!actual.equals(allowed)) {
            ex.allow = allowed.name();
            throw new ApiError(405, "invalid_request_error",
                    "Method " + actual + " is not allowed here; use " + allowed + ".", null);
        }
    }

    private void chat(ChannelHandlerContext ctx, FullHttpRequest req, Exchange ex, String modelFromPath, Caller caller,
                      ApiKind kind) {
        ChatRequestReader.ChatRequest cr = reader.read(req.content(), modelFromPath, kind);
        caller.checkModel(cr.model(), sc);
        long promptTokens;
        long tc = sc.options.nanoTime().getAsLong();
        try {
            promptTokens = sc.tokens.prompt(cr.model(), kind, cr.body());
        } catch (IllegalArgumentException e) {
            sc.stats.record(Component.TOKENIZER, sc.options.nanoTime().getAsLong() - tc, 0, 0, true);
            throw ApiError.badRequest("Cannot count the prompt's tokens: " + e.getMessage(), "messages");
        }
        sc.stats.record(Component.TOKENIZER, sc.options.nanoTime().getAsLong() - tc, promptTokens, 0, false);
        JsonNode maxTokens = cr.body().hasNonNull("max_completion_tokens")
                ? cr.body().get("max_completion_tokens") : cr.body().get("max_tokens");
        ex.request = cr;
        ex.promptTokens = promptTokens;
        ex.estimatedTokens = RateLimiter.estimateTokens(promptTokens,
                maxTokens != null && maxTokens.canConvertToLong() ? Math.max(0, maxTokens.asLong()) : -1,
                sc.config.defaultCompletionTokens());
        ex.requestBytes = req.content().readableBytes();
        if (caller.limits() != null && sc.config.switches().rateLimiting()) {
            long tl = sc.options.nanoTime().getAsLong();
            if (sc.limiter.remote()) {
                // A shared store: the key is checked together with the first deployment the router
                // picks, in one round trip (Exchange.nextAttempt), never waiting on this loop.
                ex.keyToCheck = caller;
                ex.route();
                return;
            }
            if (!ex.keyChecked(caller, tl, sc.limiter.acquire(caller.limitKey(), caller.limits(), ex.estimatedTokens))) {
                return;
            }
        }
        ex.route();
    }

    /** {@code metadata.tags} of a request, for tag-based routing. */
    private static List<String> tags(ObjectNode body) {
        JsonNode tags = body.path("metadata").path("tags");
        if (!tags.isArray() || tags.isEmpty()) {
            return List.of();
        }
        List<String> out = new java.util.ArrayList<>(tags.size());
        tags.forEach(t -> out.add(t.asText()));
        return out;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.abandon();
        }
        FullHttpRequest waiting;
        while ((waiting = queued.poll()) != null) {
            waiting.release();
        }
        super.channelInactive(ctx);
    }

    /** Backpressure: stop reading from the provider while the client cannot take more. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        Exchange ex = current;
        if (ex != null && ex.call != null) {
            ex.call.setReading(ctx.channel().isWritable());
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            // Connection resets are routine; anything else is worth a line.
            sc.options.log().accept("fast-litellm: closing connection after error: " + cause);
        }
        ctx.close();
    }

    /**
     * One request's answer in progress: where it goes, what was chosen, and the timing for the
     * overhead header. Also the provider's {@link ChatSink}; a late callback after the client left
     * is released and ignored.
     */
    private final class Exchange implements ChatSink {
        final ChannelHandlerContext ctx;
        final long t0;
        boolean keepAlive;
        String allow;
        String group;
        DeploymentConfig deployment;
        boolean streamStarted;
        long providerStart;
        long providerNanos;
        Provider.Cancellable call;
        boolean finished;
        ChatRequestReader.ChatRequest request;
        long promptTokens;
        long estimatedTokens;
        /** The key's permit, joined with the serving deployment's once it admits the request. */
        Permit permit;
        /** With limits on a shared store: the caller whose key is yet to be checked, with the first deployment. */
        Caller keyToCheck;
        Permit deploymentPermit;
        RoutingSession session;
        ScheduledFuture<?> retryTimer;

        Exchange(ChannelHandlerContext ctx, boolean keepAlive, long t0) {
            this.ctx = ctx;
            this.keepAlive = keepAlive;
            this.t0 = t0;
        }

        // ---- the key's limits ----

        /** Takes the key's verdict; false when it refused (and the 429 is on its way). */
        boolean keyChecked(Caller caller, long checkStart, Permit p) {
            permit = p;
            sc.stats.record(Component.RATE_LIMITER, sc.options.nanoTime().getAsLong() - checkStart, 0, 0, !p.allowed());
            if (!p.allowed()) {
                sc.metrics.rejected("key");
                rejectForLimit(p, "key " + caller.name());
                return false;
            }
            return true;
        }

        /**
         * Answers what went wrong with OpenAI-shaped JSON: an {@link ApiError} as it says, anything
         * else as a logged 500 that shows no stack trace.
         */
        void answerFailure(Throwable e, String during) {
            if (session != null && call == null) {
                session.abandon(); // gives the router back an attempt that never reached a provider
            }
            if (e instanceof ApiError a) {
                sendError(a.status, a.type, a.getMessage(), a.param, 0);
                return;
            }
            sc.options.log().accept("fast-litellm: error handling " + during + ": " + e);
            sendError(500, "internal_server_error",
                    "Internal error in the gateway (" + e.getClass().getSimpleName() + "); it has been logged.", null, 0);
        }

        // ---- routing: one attempt after another until one answers or the router gives up ----

        void route() {
            session = sc.router.begin(request.model(), new RouteRequest(promptTokens, tags(request.body()), request.stream()));
            nextAttempt();
        }

        void nextAttempt() {
            retryTimer = null;
            if (finished) {
                return;
            }
            while (true) {
                long tr = sc.options.nanoTime().getAsLong();
                Decision d = session.next();
                sc.stats.record(Component.ROUTER, sc.options.nanoTime().getAsLong() - tr, 0, 0, d instanceof Decision.Fail);
                if (d instanceof Decision.Wait w) {
                    retryTimer = ctx.executor().schedule(this::nextAttempt, w.millis(), TimeUnit.MILLISECONDS);
                    return;
                }
                if (d instanceof Decision.Fail f) {
                    fail(f.error());
                    return;
                }
                Decision.Call c = (Decision.Call) d;
                DeploymentConfig dc = sc.deploymentsById.get(c.deployment().id());
                if (dc.providerModel().contains("*")) {
                    // A wildcard deployment (openai/*, the "*" catch-all) serves the model asked for.
                    dc = dc.withProviderModel(wildcardModel(request.model(), dc));
                }
                Provider provider = sc.providers.get(dc.provider());
                if (provider == null) {
                    session.onFailure(501, 0, ErrorClass.BAD_REQUEST);
                    lastProblem = "deployment " + dc.id() + " uses provider '" + dc.provider()
                            + "', which this build does not support (supported: " + String.join(", ", sc.providers.keySet()) + ")";
                    continue;
                }
                Limits deploymentLimits = sc.config.switches().rateLimiting() ? sc.deploymentLimits.get(dc.id()) : null;
                if (keyToCheck != null || deploymentLimits != null && sc.limiter.remote()) {
                    checkOnSharedStore(c, dc, provider, deploymentLimits);
                    return;
                }
                if (deploymentLimits != null
                        && !deploymentAdmits(c, sc.limiter.acquireDeployment(dc.id(), deploymentLimits, estimatedTokens))) {
                    continue;
                }
                startCall(c, dc, provider);
                return;
            }
        }

        /**
         * The limits of this attempt on a shared store, which answers from its own thread: this loop
         * serves other connections meanwhile and {@link #afterSharedCheck} goes on here. The first
         * attempt checks the key together with the deployment (both taken or neither, one round
         * trip); a retry elsewhere checks the deployment alone.
         */
        private void checkOnSharedStore(Decision.Call c, DeploymentConfig dc, Provider provider, Limits deploymentLimits) {
            long checkStart = sc.options.nanoTime().getAsLong();
            Caller key = keyToCheck;
            if (key == null) {
                sc.limiter.acquireDeploymentAsync(dc.id(), deploymentLimits, estimatedTokens).whenComplete((dp, e) ->
                        ctx.executor().execute(() -> afterSharedCheck(c, dc, provider, checkStart, null, dp, e)));
                return;
            }
            sc.limiter.acquireAsync(key.limitKey(), key.limits(), dc.id(),
                    deploymentLimits != null ? deploymentLimits : UNLIMITED_DEPLOYMENT, estimatedTokens)
                    .whenComplete((both, e) -> ctx.executor().execute(() -> afterSharedCheck(c, dc, provider, checkStart,
                            both == null ? null : both.key(), both == null ? null : both.deployment(), e)));
        }

        /**
         * On the event loop, once the shared store answered ({@code keyPermit} null when only the
         * deployment was checked). The key refused: its 429, and the router gets its attempt back
         * (the deployment was not touched). The deployment refused: as any deployment refusal, and
         * the key (untouched) goes with the next deployment.
         */
        private void afterSharedCheck(Decision.Call c, DeploymentConfig dc, Provider provider, long checkStart,
                                      Permit keyPermit, Permit dp, Throwable error) {
            if (finished) {
                // The client left meanwhile; abandon() already gave the router its attempt back.
                if (keyPermit != null) {
                    keyPermit.fail();
                }
                if (dp != null) {
                    dp.fail();
                }
                return;
            }
            if (error != null) {
                answerFailure(error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error, "the rate-limit check");
                return;
            }
            try {
                if (keyPermit != null) {
                    if (!keyPermit.allowed()) {
                        session.abandon();
                    }
                    if (!keyChecked(keyToCheck, checkStart, keyPermit)) {
                        return;
                    }
                }
                if (!deploymentAdmits(c, dp)) {
                    nextAttempt();
                    return;
                }
                keyToCheck = null;
                startCall(c, dc, provider);
            } catch (RuntimeException e) {
                answerFailure(e, "the rate-limit check");
            }
        }

        /** Takes a deployment's verdict; false when its own rpm/tpm refused (reported to the router). */
        private boolean deploymentAdmits(Decision.Call c, Permit dp) {
            if (!dp.allowed()) {
                // Over this deployment's own rpm/tpm: as LiteLLM, a 429 from it; the router cools it or moves on.
                lastDeploymentDenial = dp;
                sc.metrics.rejected("deployment");
                reportFailure(c.deployment(), 429, dp.retryAfterMillis(), ErrorClass.RATE_LIMIT);
                return false;
            }
            deploymentPermit = dp;
            return true;
        }

        private void startCall(Decision.Call c, DeploymentConfig dc, Provider provider) {
            group = c.modelGroup();
            deployment = dc;
            routed = c.deployment();
            providerStart = sc.options.nanoTime().getAsLong();
            call = provider.chat(new ChatCall(request.kind(), dc, request.body(), request.stream(), request.includeUsage(),
                    promptTokens, ctx.executor()), this);
        }

        String lastProblem;
        Permit lastDeploymentDenial;
        io.fastlitellm.router.Deployment routed;
        int status;
        long requestBytes;
        long responseBytes;

        /** Reports a failed attempt to the session, and to the metrics when it cooled the deployment. */
        private void reportFailure(io.fastlitellm.router.Deployment d, int failedStatus, long retryAfterMillis, ErrorClass cls) {
            boolean wasCooling = sc.router.isInCooldown(d);
            session.onFailure(failedStatus, retryAfterMillis, cls);
            sc.metrics.attempt(d.id(), false);
            if (!wasCooling && sc.router.isInCooldown(d)) {
                sc.metrics.cooledDown(d.id());
            }
        }

        /** {@code openai/gpt-4o} asked of an {@code openai/*} deployment is {@code gpt-4o} upstream. */
        private static String wildcardModel(String requested, DeploymentConfig dc) {
            String prefix = dc.provider() + "/";
            return requested.startsWith(prefix) ? requested.substring(prefix.length()) : requested;
        }

        /**
         * The router gave up: answer with its status and message, completed by what the last attempt
         * said (the provider's own words, or which limit refused), so the client learns the cause.
         */
        private void fail(RouterException e) {
            if (permit != null) {
                permit.cancel();
            }
            group = e.modelGroup();
            String message = e.getMessage();
            String type = errorType(e);
            long retryAfterMillis = e.retryAfterMillis();
            if (lastError != null) {
                message += ". Last upstream error: " + lastError.message();
                if (lastError.status() == e.status()) {
                    type = lastError.type();
                    retryAfterMillis = Math.max(retryAfterMillis, lastError.retryAfterSeconds() * 1000);
                }
            } else if (lastDeploymentDenial != null && e.status() == 429) {
                message += ". Last error: deployment limit " + lastDeploymentDenial.deniedLimit();
                retryAfterMillis = Math.max(retryAfterMillis, lastDeploymentDenial.retryAfterMillis());
            } else if (lastProblem != null) {
                message += ". Last error: " + lastProblem;
            }
            sendError(e.status(), type, message, e.status() == 400 && lastError == null && lastProblem == null ? "model" : null,
                    (retryAfterMillis + 999) / 1000);
        }

        private String errorType(RouterException e) {
            return switch (e.status()) {
                case 429 -> "rate_limit_error";
                case 400 -> "invalid_request_error";
                case 401, 403 -> "authentication_error";
                case 404 -> "not_found_error";
                case 408 -> "timeout";
                default -> "api_error";
            };
        }

        /**
         * A key or deployment limit refused the request: 429 naming the limit, with Retry-After
         * (none when the request alone needs more than the limit allows: waiting would not help).
         */
        void rejectForLimit(Permit denied, String who) {
            long millis = denied.retryAfterMillis();
            if (millis < 0) {
                sendError(429, "rate_limit_error", "Rate limit exceeded for " + who + ": " + denied.deniedLimit()
                        + ". This request alone needs more than the limit allows (lower max_tokens or the prompt).",
                        null, 0);
                return;
            }
            long retryAfterSeconds = Math.max(1, (millis + 999) / 1000);
            sendError(429, "rate_limit_error", "Rate limit exceeded for " + who + ": " + denied.deniedLimit()
                    + ". Retry after " + retryAfterSeconds + " s.", null, retryAfterSeconds);
        }

        private Permit joinedPermit() {
            if (deploymentPermit != null && permit != null) {
                Permit joined = permit.and(deploymentPermit);
                deploymentPermit = null;
                permit = joined;
            } else if (deploymentPermit != null) {
                permit = deploymentPermit;
                deploymentPermit = null;
            }
            return permit;
        }

        // ---- provider callbacks ----

        @Override
        public void onComplete(ByteBuf body, Usage usage) {
            if (finished) {
                body.release();
                return;
            }
            if (session != null && session.contentFilterFallsBack() && endedByContentFilter(body)) {
                body.release();
                onError(new ProviderError(400, "content_policy_violation", "deployment '" + routed.id()
                        + "' answered with finish_reason \"content_filter\"", 0));
                return;
            }
            long now = sc.options.nanoTime().getAsLong();
            providerNanos = now - providerStart;
            session.onSuccess(providerNanos, 0, usage.promptTokens(), usage.completionTokens());
            sc.stats.record(Component.UPSTREAM, providerNanos, usage.promptTokens(), usage.completionTokens(), false);
            sc.metrics.attempt(routed.id(), true);
            sc.metrics.tokens(group, usage.promptTokens(), usage.completionTokens());
            Permit p = joinedPermit();
            if (p != null) {
                // Reconcile and release together (one call per key to a shared store); finish()'s
                // release after the answer is written then has nothing left to do.
                p.finish(usage.totalTokens());
            }
            sendJson(HttpResponseStatus.OK, body);
        }

        /** Whether a chat answer's first choice ended with {@code finish_reason: "content_filter"}. */
        private boolean endedByContentFilter(ByteBuf body) {
            try {
                JsonNode root = sc.json.readTree((java.io.InputStream) new io.netty.buffer.ByteBufInputStream(body.duplicate()));
                return "content_filter".equals(root.path("choices").path(0).path("finish_reason").asText(null));
            } catch (java.io.IOException e) {
                return false; // not JSON: the client gets it as it is
            }
        }

        @Override
        public void onStreamChunk(ByteBuf chunkJson) {
            if (finished) {
                chunkJson.release();
                return;
            }
            if (!streamStarted) {
                streamStarted = true;
                providerNanos = sc.options.nanoTime().getAsLong() - providerStart;
                // Once bytes reach the client the answer is committed: no retry after this point.
                // Latency, time to first token and tokens go to the router when the stream ends.
                session.onStreamStart();
                sc.metrics.attempt(routed.id(), true);
                joinedPermit();
                status = 200;
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                HttpHeaders h = head.headers();
                h.set(HttpHeaderNames.CONTENT_TYPE, Headers.EVENT_STREAM);
                h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
                HttpUtil.setTransferEncodingChunked(head, true);
                HttpUtil.setKeepAlive(head, keepAlive);
                routingHeaders(h);
                rateLimitHeaders(h, permit);
                ctx.write(head);
            }
            ByteBuf event = Unpooled.wrappedBuffer(DATA.duplicate(), chunkJson, EVENT_END.duplicate());
            responseBytes += event.readableBytes();
            ctx.writeAndFlush(new DefaultHttpContent(event), ctx.voidPromise());
            if (!ctx.channel().isWritable() && call != null) {
                // The client is slower than the provider: hold the provider until the socket drains.
                call.setReading(false);
            }
        }

        @Override
        public void onStreamEnd(Usage usage) {
            if (finished) {
                return;
            }
            if (permit != null) {
                permit.finish(usage.totalTokens());
            }
            long streamNanos = sc.options.nanoTime().getAsLong() - providerStart;
            session.onStreamEnd(streamNanos, providerNanos, usage.promptTokens(), usage.completionTokens());
            sc.stats.record(Component.UPSTREAM, streamNanos, usage.promptTokens(),
                    usage.completionTokens(), false);
            sc.metrics.tokens(group, usage.promptTokens(), usage.completionTokens());
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(DONE)), ctx.voidPromise());
            endStream();
        }

        @Override
        public void onError(ProviderError error) {
            if (finished) {
                return;
            }
            providerNanos = sc.options.nanoTime().getAsLong() - providerStart;
            sc.stats.record(Component.UPSTREAM, providerNanos, promptTokens, 0, true);
            if (streamStarted) {
                // Headers are out: tell the client in-band, as OpenAI does, then end the stream.
                // The router only gets its in-flight count back: a cut stream is no sample of
                // the deployment's speed, and too late for a retry.
                session.abandon();
                if (permit != null) {
                    permit.fail();
                }
                ByteBuf json = OpenAiWire.error(ctx.alloc(), error.status(), error.type(), error.message(), null);
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(DATA.duplicate(), json, EVENT_END.duplicate())),
                        ctx.voidPromise());
                endStream();
                return;
            }
            call = null;
            if (deploymentPermit != null) {
                deploymentPermit.fail();
                deploymentPermit = null;
            }
            lastError = error;
            reportFailure(routed, error.status(), error.retryAfterSeconds() * 1000, ErrorClasses.of(error));
            nextAttempt();
        }

        ProviderError lastError;

        // ---- writing answers ----

        void sendJson(HttpResponseStatus status, ByteBuf body) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, Headers.JSON);
            if (deployment != null) {
                routingHeaders(res.headers());
            }
            rateLimitHeaders(res.headers(), permit);
            send(res);
        }

        void sendText(HttpResponseStatus status, String contentType, String text) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            send(res);
        }

        void sendError(int status, String type, String message, String param, long retryAfterSeconds) {
            if (finished) {
                return;
            }
            ByteBuf body = OpenAiWire.error(ctx.alloc(), status, type, message, param);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, Headers.JSON);
            if (retryAfterSeconds > 0) {
                res.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
            }
            if (allow != null) {
                res.headers().set(HttpHeaderNames.ALLOW, allow);
            }
            if (deployment != null) {
                routingHeaders(res.headers());
            }
            Permit shown = permit != null && permit.allowed() ? permit : lastDeploymentDenial;
            rateLimitHeaders(res.headers(), shown != null ? shown : permit);
            send(res);
        }

        private void send(FullHttpResponse res) {
            status = res.status().code();
            responseBytes = res.content().readableBytes();
            HttpUtil.setContentLength(res, res.content().readableBytes());
            HttpUtil.setKeepAlive(res, keepAlive);
            ctx.writeAndFlush(res).addListener((ChannelFutureListener) f -> {
                if (!keepAlive || !f.isSuccess()) {
                    f.channel().close();
                }
                finish();
            });
        }

        private void endStream() {
            ctx.writeAndFlush(new DefaultLastHttpContent()).addListener((ChannelFutureListener) f -> {
                if (!keepAlive || !f.isSuccess()) {
                    f.channel().close();
                }
                finish();
            });
        }

        private void routingHeaders(HttpHeaders h) {
            h.set(Headers.MODEL_ID, deployment.id());
            h.set(Headers.MODEL_GROUP, group);
            if (deployment.apiBase() != null) {
                h.set(Headers.MODEL_API_BASE, deployment.apiBase());
            }
            h.set(Headers.ATTEMPTED_RETRIES, session == null ? 0 : session.attemptedRetries());
            h.set(Headers.ATTEMPTED_FALLBACKS, session == null ? 0 : session.attemptedFallbacks());
            long overhead = sc.options.nanoTime().getAsLong() - t0 - providerNanos;
            h.set(Headers.OVERHEAD_MS, Headers.millis(overhead));
        }

        /** {@code x-ratelimit-*} from the permit of the limits that apply, tightest first. */
        private void rateLimitHeaders(HttpHeaders h, Permit p) {
            if (p == null) {
                return;
            }
            if (p.requestLimit() != Limits.UNLIMITED) {
                h.set(Headers.LIMIT_REQUESTS, p.requestLimit());
                h.set(Headers.REMAINING_REQUESTS, Math.max(0, p.requestsRemaining()));
            }
            if (p.tokenLimit() != Limits.UNLIMITED) {
                h.set(Headers.LIMIT_TOKENS, p.tokenLimit());
                h.set(Headers.REMAINING_TOKENS, Math.max(0, p.tokensRemaining()));
            }
        }

        /** The client went away: stop the provider call and account for the request. */
        void abandon() {
            if (retryTimer != null) {
                retryTimer.cancel(false);
            }
            if (session != null) {
                session.abandon();
            }
            if (call != null) {
                call.cancel();
            }
            if (deploymentPermit != null) {
                deploymentPermit.fail();
            }
            if (permit != null) {
                permit.fail();
            }
            finish();
        }

        void finish() {
            if (finished) {
                return;
            }
            finished = true;
            sc.inFlight.decrementAndGet();
            long nanos = sc.options.nanoTime().getAsLong() - t0;
            sc.stats.record(Component.REQUEST, nanos, requestBytes, responseBytes, status == 0 || status >= 500);
            if (request != null) {
                sc.metrics.request(group, deployment == null ? null : deployment.id(), status == 0 ? 499 : status,
                        nanos, deployment == null ? -1 : nanos - providerNanos);
            }
            if (permit != null) {
                permit.release();
            }
            if (current == this) {
                current = null;
            }
            FullHttpRequest next = ctx.channel().isActive() ? queued.poll() : null;
            if (next != null) {
                if (queued.isEmpty()) {
                    ctx.channel().config().setAutoRead(true);
                }
                try {
                    handle(ctx, next);
                } finally {
                    next.release();
                }
            }
        }
    }
}
