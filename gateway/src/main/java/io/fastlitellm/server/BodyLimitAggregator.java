package io.fastlitellm.server;

import io.fastlitellm.provider.OpenAiWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/**
 * Aggregates a request body up to {@code general_settings.max_request_size_mb}; a larger body is
 * answered with 413 in OpenAI's error shape (not Netty's plain text) and the connection is closed
 * gracefully, since the rest of the body would otherwise be read as the next request.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final long limit;

    BodyLimitAggregator(long limitBytes) {
        super((int) Math.min(Integer.MAX_VALUE, limitBytes));
        this.limit = limitBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ByteBuf body = OpenAiWire.error(ctx.alloc(), 413, "invalid_request_error",
                "Request body is larger than the gateway's limit of " + limit + " bytes "
                        + "(general_settings.max_request_size_mb).", null);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, body);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, Headers.JSON);
        HttpUtil.setContentLength(res, body.readableBytes());
        HttpUtil.setKeepAlive(res, false);
        ctx.writeAndFlush(res).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() || !(f.channel() instanceof DuplexChannel duplex)) {
                f.channel().close();
                return;
            }
            // Closing now, with the client still sending its body, would reset the connection and
            // could destroy the 413 before the client reads it. Send FIN instead, keep discarding
            // what arrives (the aggregator drops an oversized body), and close once the client
            // hangs up, or after a grace period.
            duplex.shutdownOutput();
            ctx.executor().schedule(() -> ctx.close(), 5, TimeUnit.SECONDS);
        });
    }
}
