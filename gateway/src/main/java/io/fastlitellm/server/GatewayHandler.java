package io.fastlitellm.server;

import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.provider.ChatCall;
import io.fastlitellm.provider.ChatSink;
import io.fastlitellm.provider.OpenAiWire;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.provider.ProviderError;
import io.fastlitellm.provider.Usage;
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
        } catch (ApiError e) {
            ex.sendError(e.status, e.type, e.getMessage(), e.param, 0);
        } catch (RuntimeException e) {
            sc.options.log().accept("fast-litellm: error handling " + req.method() + " " + req.uri() + ": " + e);
            ex.sendError(500, "internal_server_error",
                    "Internal error in the gateway (" + e.getClass().getSimpleName() + "); it has been logged.", null, 0);
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
                Auth.check(sc, req.headers());
                chat(ctx, req, ex, null);
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
            case "/health/liveliness", "/health/liveness" -> {
                requireMethod(method, HttpMethod.GET, ex);
                ex.sendJson(HttpResponseStatus.OK, Unpooled.copiedBuffer("\"I'm alive!\"", StandardCharsets.UTF_8));
            }
            case "/health/readiness" -> {
                requireMethod(method, HttpMethod.GET, ex);
                ex.sendJson(HttpResponseStatus.OK, Endpoints.readiness(ctx.alloc(), sc));
            }
            default -> {
                String azureModel = azureDeployment(path);
                if (azureModel == null) {
                    throw new ApiError(404, "not_found_error", "No route for " + path
                            + ". Routes: /v1/chat/completions, /v1/models, /health, /health/liveliness, /health/readiness.", null);
                }
                requireMethod(method, HttpMethod.POST, ex);
                Auth.check(sc, req.headers());
                chat(ctx, req, ex, azureModel);
            }
        }
    }

    /** The model of an Azure-style path {@code /openai/deployments/{model}/chat/completions}, else null. */
    private static String azureDeployment(String path) {
        String prefix = "/openai/deployments/";
        String suffix = "/chat/completions";
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

    private void chat(ChannelHandlerContext ctx, FullHttpRequest req, Exchange ex, String modelFromPath) {
        ChatRequestReader.ChatRequest cr = reader.read(req.content(), modelFromPath);
        String group = sc.resolveGroup(cr.model());
        if (group == null) {
            throw ApiError.badRequest("Invalid model name passed in model=" + cr.model()
                    + ". This gateway serves: " + String.join(", ", sc.servedNames())
                    + " (GET /v1/models lists them).", "model");
        }
        List<DeploymentConfig> deployments = sc.groups.get(group);
        DeploymentConfig d = deployments.size() == 1 ? deployments.get(0)
                : deployments.get(sc.options.random().nextInt(deployments.size()));
        Provider provider = sc.providers.get(d.provider());
        if (provider == null) {
            throw new ApiError(501, "api_error", "Deployment " + d.id() + " of model group " + group
                    + " uses provider '" + d.provider() + "', which this build of fast-litellm does not support yet "
                    + "(supported: " + String.join(", ", sc.providers.keySet()) + ").", "model");
        }
        ex.group = group;
        ex.deployment = d;
        ex.stream = cr.stream();
        long promptTokens = sc.promptTokens.count(d, cr.body());
        ex.providerStart = sc.options.nanoTime().getAsLong();
        ex.call = provider.chat(new ChatCall(d, cr.body(), cr.stream(), cr.includeUsage(), promptTokens, ctx.executor()), ex);
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
        boolean stream;
        boolean streamStarted;
        long providerStart;
        long providerNanos;
        Provider.Cancellable call;
        boolean finished;

        Exchange(ChannelHandlerContext ctx, boolean keepAlive, long t0) {
            this.ctx = ctx;
            this.keepAlive = keepAlive;
            this.t0 = t0;
        }

        // ---- provider callbacks ----

        @Override
        public void onComplete(ByteBuf body, Usage usage) {
            if (finished) {
                body.release();
                return;
            }
            providerNanos = sc.options.nanoTime().getAsLong() - providerStart;
            sendJson(HttpResponseStatus.OK, body);
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
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                HttpHeaders h = head.headers();
                h.set(HttpHeaderNames.CONTENT_TYPE, Headers.EVENT_STREAM);
                h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
                HttpUtil.setTransferEncodingChunked(head, true);
                HttpUtil.setKeepAlive(head, keepAlive);
                routingHeaders(h);
                ctx.write(head);
            }
            ByteBuf event = Unpooled.wrappedBuffer(DATA.duplicate(), chunkJson, EVENT_END.duplicate());
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
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(DONE)), ctx.voidPromise());
            endStream();
        }

        @Override
        public void onError(ProviderError error) {
            if (finished) {
                return;
            }
            providerNanos = sc.options.nanoTime().getAsLong() - providerStart;
            if (streamStarted) {
                // Headers are out: tell the client in-band, as OpenAI does, then end the stream.
                ByteBuf json = OpenAiWire.error(ctx.alloc(), error.status(), error.type(), error.message(), null);
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(DATA.duplicate(), json, EVENT_END.duplicate())),
                        ctx.voidPromise());
                endStream();
                return;
            }
            sendError(error.status(), error.type(), error.message(), null, error.retryAfterSeconds());
        }

        // ---- writing answers ----

        void sendJson(HttpResponseStatus status, ByteBuf body) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, Headers.JSON);
            if (deployment != null) {
                routingHeaders(res.headers());
            }
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
            send(res);
        }

        private void send(FullHttpResponse res) {
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
            h.set(Headers.ATTEMPTED_RETRIES, "0");
            h.set(Headers.ATTEMPTED_FALLBACKS, "0");
            long overhead = sc.options.nanoTime().getAsLong() - t0 - providerNanos;
            h.set(Headers.OVERHEAD_MS, Headers.millis(overhead));
        }

        /** The client went away: stop the provider call and account for the request. */
        void abandon() {
            if (call != null) {
                call.cancel();
            }
            finish();
        }

        void finish() {
            if (finished) {
                return;
            }
            finished = true;
            sc.inFlight.decrementAndGet();
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
