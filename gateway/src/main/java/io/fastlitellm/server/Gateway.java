package io.fastlitellm.server;

import io.fastlitellm.config.DeploymentConfig;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.provider.MockProvider;
import io.fastlitellm.provider.Provider;
import io.fastlitellm.config.RouterFactory;
import io.fastlitellm.ratelimit.RateLimiter;
import io.fastlitellm.redis.RedisSettings;
import io.fastlitellm.redis.RedisState;
import io.fastlitellm.router.Router;
import io.fastlitellm.metrics.GatewayMetrics;
import io.fastlitellm.stats.Stats;
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
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.fastlitellm.provider.Providers;
import io.fastlitellm.upstream.PoolStats;
import io.fastlitellm.upstream.UpstreamClient;
import io.fastlitellm.upstream.UpstreamSettings;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

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
    private final UpstreamClient upstream;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup channels;
    private final InetSocketAddress address;
    private final RedisState redis;
    private volatile boolean closed;

    private Gateway(ServerContext sc, EventLoopGroup group, Channel serverChannel, ChannelGroup channels,
                    UpstreamClient upstream, RedisState redis) {
        this.sc = sc;
        this.redis = redis;
        this.upstream = upstream;
        this.group = group;
        this.serverChannel = serverChannel;
        this.channels = channels;
        this.address = (InetSocketAddress) serverChannel.localAddress();
    }

    /** Binds and starts serving; throws when the address cannot be bound. */
    public static Gateway start(GatewayConfig config, GatewayOptions options) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        Stats stats = config.switches().stats() ? Stats.create() : Stats.disabled();
        UpstreamClient upstream = new UpstreamClient(upstreamSettings(config), options.nanoTime(),
                epoll ? EpollSocketChannel.class : NioSocketChannel.class, stats);
        Tokens tokens = new Tokens(config, new com.fasterxml.jackson.databind.ObjectMapper());
        Map<String, Provider> providers = Providers.all(upstream,
                new MockProvider(options.random(), tokens, PooledByteBufAllocator.DEFAULT), config.dropParams());
        // ---- shared state: with Redis configured, limits, usage and cooldowns hold across instances
        int maxKeys = Math.max(1024, config.virtualKeys().size() * 2);
        int maxDeployments = Math.max(64, config.deployments().size() * 2);
        RedisState redis = RedisSettings.fromConfig(config.routerSettings(), System.getenv())
                .map(s -> RedisState.connect(s, options.log())).orElse(null);
        RedisSettings.unsupportedWarning(config.routerSettings(), System.getenv()).ifPresent(options.log());
        // Minutes and cooldown deadlines are shared through Redis only on one clock for all instances.
        LongSupplier routerClock = redis == null ? options.nanoTime() : RedisState.clock();
        Router router;
        RateLimiter limiter;
        try {
            router = RouterFactory.build(config, routerClock, options.random(),
                    redis == null ? null : redis::deploymentStateStore);
            if (redis == null) {
                limiter = RateLimiter.inMemory(maxKeys, maxDeployments, options.nanoTime());
            } else {
                redis.afterRefresh(router::refreshFromStore);
                limiter = new RateLimiter(
                        redis.limitStore("k", maxKeys, message -> new ApiError(503, "service_unavailable", message, null)),
                        redis.limitStore("d", maxDeployments, null), options.nanoTime());
            }
        } catch (RuntimeException e) {
            if (redis != null) {
                redis.close();
            }
            throw e;
        }
        // ---- end shared state
        GatewayMetrics metrics = new GatewayMetrics(upstream::stats,
                () -> (int) router.deployments().stream().filter(router::isInCooldown).count());
        ServerContext sc = new ServerContext(config, options, providers, tokens, router, limiter, stats, metrics);
        sc.maxLimiterKeys = maxKeys;
        sc.upstreamStats = upstream::stats;
        for (DeploymentConfig d : config.deployments()) {
            if (!providers.containsKey(d.provider())) {
                options.log().accept("fast-litellm: warning: " + config.source() + ": model_list[" + d.index()
                        + "] uses provider '" + d.provider() + "', not supported by this build; its requests get 501");
            }
        }

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
            // Idle and over-age upstream connections are closed even when no request comes to find them.
            group.scheduleAtFixedRate(() -> upstream.cleanup(options.nanoTime().getAsLong()), 15, 15, TimeUnit.SECONDS);
            // Cooldowns expire and idle limiter keys are evicted on the injected clock's time.
            group.scheduleAtFixedRate(() -> {
                router.cleanup(routerClock.getAsLong());
                limiter.cleanup(options.nanoTime().getAsLong());
            }, 1, 1, TimeUnit.SECONDS);
            return new Gateway(sc, group, ch, channels, upstream, redis);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            if (redis != null) {
                redis.close();
            }
            throw e;
        }
    }

    /** Pool settings, with {@code litellm_settings.ssl_verify} as an extra CA file when it is a path. */
    static UpstreamSettings upstreamSettings(GatewayConfig config) {
        UpstreamSettings s = UpstreamSettings.defaults();
        Object verify = config.litellmSettings().get("ssl_verify").raw();
        if (verify instanceof String path) {
            s = s.withCaFile(java.nio.file.Path.of(config.litellmSettings().get("ssl_verify").string(path)));
        }
        if (!config.switches().connectionPooling()) {
            // FAST_LITELLM_CONNECTION_POOLING=false: a connection lives for one call.
            s = s.withIdle(s.idleTimeout(), java.time.Duration.ZERO);
        }
        return s;
    }

    public int port() {
        return address.getPort();
    }

    public URI url() {
        String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    /** Connection pool statistics for calls to providers. */
    public PoolStats upstreamStats() {
        return upstream.stats();
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
        upstream.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (redis != null) {
            redis.close();
        }
        return drained;
    }
}
