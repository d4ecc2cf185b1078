package io.fastlitellm.mockserver;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-alone upstream that speaks OpenAI's API (chat completions with streaming, text
 * completions, embeddings, Azure deployment paths) and Anthropic's Messages API (with streaming),
 * so the real provider code can be tested and benchmarked over real sockets.
 *
 * <p>Each request may steer the answer with headers (a deployment sets them through
 * {@code litellm_params.extra_headers}): {@code x-mock-latency-ms}, {@code x-mock-status},
 * {@code x-mock-retry-after}, {@code x-mock-response}, {@code x-mock-chunks},
 * {@code x-mock-chunk-interval-ms}, {@code x-mock-cut-after} (close the connection after that many
 * stream events), {@code x-mock-finish-reason} (of a chat answer that does not stream; default
 * {@code stop}). It counts the connections it accepted and keeps the last requests it saw, for
 * tests ({@code GET /mock/stats}, or {@link #connectionsOpened()} and {@link #recentRequests()}).
 *
 * <p>Thread-safe; counters are atomics, the request log is guarded by its own monitor.
 */
public final class MockServer implements AutoCloseable {
    static final int KEPT_REQUESTS = 256;

    final long defaultLatencyMs;
    final AtomicLong connections = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong openConnections = new AtomicLong();
    final AtomicLong h2Connections = new AtomicLong();
    private final ArrayDeque<RecordedRequest> recent = new ArrayDeque<>();
    private final EventLoopGroup group;
    private final Channel channel;
    private final boolean tls;

    private MockServer(long defaultLatencyMs, EventLoopGroup group, Channel channel, boolean tls) {
        this.defaultLatencyMs = defaultLatencyMs;
        this.group = group;
        this.channel = channel;
        this.tls = tls;
    }

    /** Starts on {@code host:port} (0 for a free port); with {@code ssl}, serves HTTPS. */
    public static MockServer start(String host, int port, long defaultLatencyMs, SslContext ssl) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        MockServer[] self = new MockServer[1];
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            MockServer server = self[0];
                            server.connections.incrementAndGet();
                            server.openConnections.incrementAndGet();
                            ch.closeFuture().addListener(f -> server.openConnections.decrementAndGet());
                            if (ssl == null) {
                                http1(ch.pipeline(), server);
                                return;
                            }
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                            // With TLS, speak what the client and the context agree on (ALPN): h2 or HTTP/1.1.
                            ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                                @Override
                                protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                        server.h2Connections.incrementAndGet();
                                        ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                                        ctx.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                            @Override
                                            protected void initChannel(Http2StreamChannel stream) {
                                                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
                                                stream.pipeline().addLast(new HttpObjectAggregator(64 * 1024 * 1024));
                                                stream.pipeline().addLast(new MockServerHandler(server));
                                            }
                                        }));
                                    } else {
                                        http1(ctx.pipeline(), server);
                                    }
                                }
                            });
                        }
                    });
            // The acceptor only runs after bind, so the holder is set before any child is initialised.
            Channel ch = b.bind(host, port).sync().channel();
            self[0] = new MockServer(defaultLatencyMs, group, ch, ssl != null);
            return self[0];
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    private static void http1(io.netty.channel.ChannelPipeline p, MockServer server) {
        p.addLast(new HttpServerCodec());
        p.addLast(new HttpObjectAggregator(64 * 1024 * 1024));
        p.addLast(new MockServerHandler(server));
        p.addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
    }

    /** Connections that negotiated HTTP/2 (TLS with ALPN) since start. */
    public long http2ConnectionsOpened() {
        return h2Connections.get();
    }

    /**
     * A server TLS context from a key manager that offers HTTP/2 and HTTP/1.1 by ALPN, for
     * {@link #start}'s {@code ssl}.
     */
    public static SslContext tlsWithAlpn(javax.net.ssl.KeyManagerFactory keys) throws javax.net.ssl.SSLException {
        return io.netty.handler.ssl.SslContextBuilder.forServer(keys)
                .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                        io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:PORT}. */
    public URI url() {
        return URI.create((tls ? "https" : "http") + "://127.0.0.1:" + port());
    }

    /** Connections accepted since start. */
    public long connectionsOpened() {
        return connections.get();
    }

    /** Connections open now. */
    public long connectionsOpen() {
        return openConnections.get();
    }

    public long requestsServed() {
        return requests.get();
    }

    /** The most recent requests, oldest first (at most {@value #KEPT_REQUESTS}). */
    public List<RecordedRequest> recentRequests() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }

    void record(RecordedRequest r) {
        synchronized (recent) {
            if (recent.size() == KEPT_REQUESTS) {
                recent.removeFirst();
            }
            recent.addLast(r);
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A request as the mock server received it. */
    public record RecordedRequest(String method, String uri, java.util.Map<String, String> headers, String body) {
    }
}
