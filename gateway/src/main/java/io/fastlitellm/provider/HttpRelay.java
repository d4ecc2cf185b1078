package io.fastlitellm.provider;

import io.fastlitellm.upstream.UpstreamCall;
import io.fastlitellm.upstream.UpstreamClient;
import io.fastlitellm.upstream.UpstreamFailure;
import io.fastlitellm.upstream.UpstreamListener;
import io.fastlitellm.upstream.UpstreamRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Turns one upstream HTTP response into {@link ChatSink} calls: error answers and non-streaming
 * bodies are collected whole, streams are decoded event by event and handed to the subclass as
 * they arrive. Guarantees the sink hears exactly one ending, and nothing after a cancel.
 * Confined to the call's event loop.
 */
abstract class HttpRelay implements UpstreamListener, SseDecoder.Listener {
    static final int MAX_EVENT_BYTES = 8 * 1024 * 1024;

    final ChatCall call;
    final ChatSink sink;
    private int status;
    private HttpHeaders headers;
    private CompositeByteBuf whole;
    private SseDecoder sse;
    private boolean cancelled;
    boolean ended;

    HttpRelay(ChatCall call, ChatSink sink) {
        this.call = call;
        this.sink = sink;
    }

    /** Sends {@code request} for this relay; the handle cancels the call or pauses its reading. */
    Provider.Cancellable start(UpstreamClient client, UpstreamRequest request) {
        UpstreamCall upstream = client.send((EventLoop) call.executor(), request, this);
        return new Provider.Cancellable() {
            @Override
            public void cancel() {
                cancelled = true;
                upstream.cancel();
                releaseBuffers();
            }

            @Override
            public void setReading(boolean reading) {
                upstream.setReading(reading);
            }
        };
    }

    /** A successful non-streaming body; the subclass owns {@code body}. */
    abstract void onWholeBody(ByteBuf body);

    /** The streamed body ended; the subclass decides whether that was a normal end. */
    abstract void onStreamBodyEnd();

    @Override
    public final void onHead(int status, HttpHeaders headers) {
        this.status = status;
        this.headers = headers;
        if (status >= 400 || !call.stream()) {
            whole = PooledByteBufAllocator.DEFAULT.compositeBuffer(1024);
        } else {
            sse = new SseDecoder(PooledByteBufAllocator.DEFAULT, MAX_EVENT_BYTES);
        }
    }

    @Override
    public final void onContent(ByteBuf content, boolean last) {
        if (cancelled || ended) {
            return;
        }
        if (whole != null) {
            whole.addComponent(true, content.retain());
            if (last) {
                ended = true;
                CompositeByteBuf body = whole;
                whole = null;
                if (status >= 400) {
                    ProviderError e = ProviderSupport.upstreamError(call.deployment(), status, headers, body);
                    body.release();
                    sink.onError(e);
                } else {
                    onWholeBody(body);
                }
            }
            return;
        }
        if (!sse.feed(content, this)) {
            fail(new ProviderError(502, "api_error", ProviderSupport.who(call.deployment())
                    + ": a stream event was larger than " + MAX_EVENT_BYTES + " bytes", 0));
            return;
        }
        if (last && !ended) {
            onStreamBodyEnd();
        }
    }

    /** True when events should be ignored (the call ended or was cancelled). */
    final boolean ignoring() {
        return ended || cancelled;
    }

    @Override
    public final void onFailure(UpstreamFailure failure) {
        if (!cancelled) {
            fail(ProviderSupport.failure(call.deployment(), failure));
        }
    }

    final void fail(ProviderError error) {
        if (ended) {
            return;
        }
        ended = true;
        releaseBuffers();
        sink.onError(error);
    }

    final void end(Usage usage) {
        if (ended) {
            return;
        }
        ended = true;
        releaseBuffers();
        sink.onStreamEnd(usage);
    }

    private void releaseBuffers() {
        if (whole != null) {
            whole.release();
            whole = null;
        }
        if (sse != null) {
            sse.release();
            sse = null;
        }
    }
}
