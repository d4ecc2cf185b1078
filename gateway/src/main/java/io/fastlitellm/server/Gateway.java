package io.fastlitellm.server;

import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.provider.MockProvider;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.provider.TextTokenCounter;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * The OpenAI-compatible gateway: serves a {@link GatewayConfig} over HTTP until closed.
 *
 * <pre>{@code
 * try (Gateway gw = Gateway.start(ConfigLoader.standard().load(path), GatewayOptions.builder().port(0).build())) {
 *     URI url = gw.url();   // e.g. http://127.0.0.1:41234
 * }
 * }</pre>
 *
 * <p>Promises: once {@link #start} returns the port is bound and answering; {@link #close()} stops
 * accepting connections, answers requests arriving on open connections with 503, lets requests in
 * flight finish for up to {@link GatewayOptions#drainTimeout()}, then closes every connection and
 * frees the event loops. Thread-safe.
 */
public final class Gateway implements AutoCloseable {
    private final ServerContext sc;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup channels;
    private final InetSocketAddress address;
    private volatile boolean closed;

    private Gateway(ServerContext sc, EventLoopGroup group, Channel serverChannel, ChannelGroup channels) {
        this.sc = sc;
        this.group = group;
        this.serverChannel = serverChannel;
        this.channels = channels;
        this.address = (InetSocketAddress) serverChannel.localAddress();
    }

    /** Binds and starts serving; throws when the address cannot be bound. */
    public static Gateway start(GatewayConfig config, GatewayOptions options) throws InterruptedException {
        Map<String, Provider> providers = new LinkedHashMap<>();
        TextTokenCounter tokens = (model, text) -> EstimatedTokens.text(text);
        providers.put("mock", new MockProvider(options.random(), tokens, PooledByteBufAllocator.DEFAULT));
        ServerContext sc = new ServerContext(config, options, Map.copyOf(providers), tokens,
                (deployment, body) -> EstimatedTokens.prompt(body));
        for (DeploymentConfig d : config.deployments()) {
            if (!providers.containsKey(d.provider())) {
                options.log().accept("fast-litellm: warning: " + config.source() + ": model_list[" + d.index()
                        + "] uses provider '" + d.provider() + "', not supported by this build; its requests get 501");
            }
        }

        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(options.ioThreads(), io);
        Class<? extends ServerChannel> channelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ChannelGroup channels = new DefaultChannelGroup("fast-litellm", GlobalEventExecutor.INSTANCE);
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(channelClass)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            channels.add(ch);
                            ChannelPipeline p = ch.pipeline();
                            p.addLast(new FlushConsolidationHandler(256, true));
                            p.addLast(new HttpServerCodec());
                            p.addLast(new BodyLimitAggregator(config.maxRequestBytes()));
                            p.addLast(new GatewayHandler(sc));
                        }
                    });
            Channel ch = b.bind(options.host(), options.port()).sync().channel();
            return new Gateway(sc, group, ch, channels);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    public int port() {
        return address.getPort();
    }

    public URI url() {
        String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    /** Requests accepted and not yet fully answered. */
    public int inFlight() {
        return sc.inFlight.get();
    }

    /** One line for the console: where it listens and what it serves. */
    public String startupLine() {
        StringJoiner models = new StringJoiner(", ");
        sc.groups.forEach((name, ds) -> models.add(name + (ds.size() > 1 ? " (" + ds.size() + " deployments)" : "")));
        sc.config.modelGroupAlias().forEach((alias, target) -> models.add(alias + " -> " + target));
        return "fast-litellm " + Version.VERSION + " serving " + url() + " from " + sc.config.source()
                + (sc.masterKey != null ? " (master_key required)" : "") + "; models: " + models;
    }

    /** Graceful stop with the configured drain timeout; see the class comment. */
    @Override
    public void close() {
        shutdown(sc.options.drainTimeout());
    }

    /**
     * Stops accepting, waits up to {@code drain} for requests in flight, then closes everything.
     *
     * @return true when every request in flight finished within {@code drain}
     */
    public boolean shutdown(Duration drain) {
        if (closed) {
            return true;
        }
        closed = true;
        sc.draining.set(true);
        serverChannel.close().syncUninterruptibly();
        long deadline = System.nanoTime() + drain.toNanos();
        boolean drained;
        while (!(drained = sc.inFlight.get() == 0) && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        return drained;
    }
}
