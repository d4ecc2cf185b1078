package io.fastlitellm.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import io.fastlitellm.stats.Component;
import io.fastlitellm.stats.Stats;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * HTTP/1.1 client for provider calls with per-endpoint connection pools.
 *
 * <p>Promises: connections to one {@code scheme://host:port} are reused (keep-alive) and never
 * exceed {@link UpstreamSettings#maxConnectionsPerEndpoint()}; requests beyond that wait in a
 * bounded queue with an acquire timeout, and beyond the queue are refused at once; a connection that
 * broke, answered {@code Connection: close}, outlived {@code maxLifetime} or idled past
 * {@code idleTimeout} (by the injected clock) is closed, never handed out again; a request that
 * finds its reused connection closed before any response byte is retried once on a new one; every
 * call ends exactly once, with its response or an {@link UpstreamFailure} naming endpoint and cause.
 *
 * <p>Concurrency: each event loop has its own pool per endpoint ({@link LoopPool}), touched only
 * from that loop, so a call and its connection share a thread with the client connection that
 * caused it, and the pool needs no locks. The only shared state per endpoint is the count of open
 * connections (an {@link AtomicInteger}, reserved by CAS before connecting) and the statistics
 * (adders and a concurrent histogram).
 */
public final class UpstreamClient implements AutoCloseable {
    private final UpstreamSettings settings;
    private final LongSupplier nanoTime;
    private final Class<? extends Channel> channelClass;
    private final SslContext ssl;
    private final Map<String, EndpointState> endpoints = new ConcurrentHashMap<>();
    private final LongAdder created = new LongAdder();
    private final LongAdder reused = new LongAdder();
    private final LongAdder h2Connections = new LongAdder();
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong waiting = new AtomicLong();
    private final ConcurrentHistogram acquireWaitMicros = new ConcurrentHistogram(3);
    private final DnsAddressResolverGroup dns;
    private final Stats stats;

    public UpstreamClient(UpstreamSettings settings, LongSupplier nanoTime, Class<? extends Channel> channelClass) {
        this(settings, nanoTime, channelClass, Stats.disabled());
    }

    /** With {@code stats}, every connection acquire is recorded as {@link Component#CONNECTION_POOL}. */
    public UpstreamClient(UpstreamSettings settings, LongSupplier nanoTime, Class<? extends Channel> channelClass,
                          Stats stats) {
        this.stats = stats;
        this.settings = settings;
        this.nanoTime = nanoTime;
        this.channelClass = channelClass;
        // Host names resolve asynchronously (never blocking a loop), honouring /etc/hosts, and
        // answers are cached for their TTL bounded to [1 s, 5 min]; failures for 5 s.
        Class<? extends DatagramChannel> udp = channelClass.getName().contains("Epoll")
                ? EpollDatagramChannel.class : NioDatagramChannel.class;
        this.dns = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(udp)
                .ttl(1, 300)
                .negativeTtl(5));
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    // Offer HTTP/2 and HTTP/1.1; the server picks (ALPN).
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
            if (settings.caFile() != null) {
                // The JDK's default trust store plus the given anchors.
                b.trustManager(TrustAnchors.systemPlus(settings.caFile()));
            }
            this.ssl = b.build();
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("upstream TLS setup failed"
                    + (settings.caFile() != null ? " (CA file " + settings.caFile() + ")" : "") + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts an exchange; must be called on {@code loop}. The listener is called on {@code loop}.
     */
    public UpstreamCall send(EventLoop loop, UpstreamRequest request, UpstreamListener listener) {
        URI uri = request.uri();
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        String key = (tls ? "https://" : "http://") + uri.getHost() + ":" + port;
        EndpointState endpoint = endpoints.computeIfAbsent(key, k -> new EndpointState(k, uri.getHost(), port, tls));
        LoopPool pool = endpoint.pools.computeIfAbsent(loop, l -> new LoopPool(endpoint, loop));
        Exchange ex = new Exchange(pool, request, listener);
        ex.begin();
        return ex;
    }

    /** Connections that negotiated HTTP/2 since start (the rest are HTTP/1.1). */
    public long http2ConnectionsOpened() {
        return h2Connections.sum();
    }

    /** Pool statistics, summed over endpoints and event loops. */
    public PoolStats stats() {
        long open = 0;
        for (EndpointState e : endpoints.values()) {
            open += e.open.get();
        }
        long busy = inUse.get();
        return new PoolStats(open, Math.max(0, open - busy), busy, created.sum(), reused.sum(), waiting.get(),
                acquireWaitMicros.getValueAtPercentile(50), acquireWaitMicros.getValueAtPercentile(99));
    }

    /**
     * Closes idle connections past {@code idleTimeout} or {@code maxLifetime} as of {@code nowNanos};
     * runs each pool's part on its own event loop. Returns nanoseconds until it is next worth calling.
     */
    public long cleanup(long nowNanos) {
        for (EndpointState e : endpoints.values()) {
            for (LoopPool p : e.pools.values()) {
                p.loop.execute(() -> p.evictExpired(nowNanos));
            }
        }
        return Math.min(settings.idleTimeout().toNanos(), settings.maxLifetime().toNanos());
    }

    @Override
    public void close() {
        dns.close();
        for (EndpointState e : endpoints.values()) {
            for (LoopPool p : e.pools.values()) {
                p.loop.execute(p::closeAll);
            }
        }
    }

    /** One scheme://host:port and its pools, one per event loop. */
    private final class EndpointState {
        final String key;
        final String host;
        final int port;
        final boolean tls;
        final AtomicInteger open = new AtomicInteger();
        final Map<EventLoop, LoopPool> pools = new ConcurrentHashMap<>();

        EndpointState(String key, String host, int port, boolean tls) {
            this.key = key;
            this.host = host;
            this.port = port;
            this.tls = tls;
        }

        boolean reserve() {
            int n;
            do {
                n = open.get();
                if (n >= settings.maxConnectionsPerEndpoint()) {
                    return false;
                }
            } while (!open.compareAndSet(n, n + 1));
            return true;
        }

        /** A connection closed: free its slot and let a waiting loop use it. */
        void closed() {
            open.decrementAndGet();
            for (LoopPool p : pools.values()) {
                if (p.hasWaiters()) {
                    p.loop.execute(p::serveWaiters);
                    return;
                }
            }
        }
    }

    /** The pool of one endpoint on one event loop; every method runs on {@link #loop}. */
    private final class LoopPool {
        final EndpointState endpoint;
        final EventLoop loop;
        final ArrayDeque<Connection> idle = new ArrayDeque<>();
        final ArrayDeque<Exchange> waiters = new ArrayDeque<>();
        private volatile int waiterCount;
        /** The HTTP/2 session to this endpoint on this loop, when the server chose h2; streams share it. */
        H2Session h2;

        LoopPool(EndpointState endpoint, EventLoop loop) {
            this.endpoint = endpoint;
            this.loop = loop;
        }

        boolean hasWaiters() {
            return waiterCount > 0;
        }

        void acquire(Exchange ex, boolean fresh) {
            long now = nanoTime.getAsLong();
            H2Session session = h2;
            if (session != null && !fresh) {
                if (session.usable(now)) {
                    reused.increment();
                    openStream(ex, true);
                    return;
                }
                // Past its idle time or lifetime: no new streams; it closes when its last stream ends.
                h2 = null;
                session.retire();
            }
            if (!fresh) {
                Connection c;
                while ((c = idle.pollFirst()) != null) {
                    if (c.usable(now)) {
                        reused.increment();
                        ex.attach(c, true);
                        return;
                    }
                    c.channel.close();
                }
            }
            if (endpoint.reserve()) {
                connect(ex);
                return;
            }
            if (waiters.size() >= settings.maxPendingAcquires()) {
                ex.fail(UpstreamFailure.Kind.POOL_EXHAUSTED, "all " + settings.maxConnectionsPerEndpoint()
                        + " connections to " + endpoint.key + " are busy and " + waiters.size()
                        + " requests already wait for one");
                return;
            }
            ex.waitStart = now;
            waiters.addLast(ex);
            waiterCount = waiters.size();
            waiting.incrementAndGet();
            ex.acquireTimer = loop.schedule(() -> {
                if (waiters.remove(ex)) {
                    waiterCount = waiters.size();
                    waiting.decrementAndGet();
                    ex.fail(UpstreamFailure.Kind.POOL_EXHAUSTED, "no connection to " + endpoint.key + " became free within "
                            + settings.acquireTimeout().toMillis() + " ms (all " + settings.maxConnectionsPerEndpoint() + " busy)");
                }
            }, settings.acquireTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }

        void removeWaiter(Exchange ex) {
            if (waiters.remove(ex)) {
                waiterCount = waiters.size();
                waiting.decrementAndGet();
            }
        }

        /** Hands a free connection, or a free slot, to the longest waiter. */
        void serveWaiters() {
            while (!waiters.isEmpty() && h2 != null && h2.channel.isActive()) {
                Exchange ex = waiters.pollFirst();
                waiterCount = waiters.size();
                waiting.decrementAndGet();
                ex.acquireTimer.cancel(false);
                acquireWaitMicros.recordValue(Math.max(0, (nanoTime.getAsLong() - ex.waitStart) / 1000));
                reused.increment();
                openStream(ex, true);
            }
            while (!waiters.isEmpty()) {
                long now = nanoTime.getAsLong();
                Connection c = null;
                while (!idle.isEmpty()) {
                    Connection candidate = idle.pollFirst();
                    if (candidate.usable(now)) {
                        c = candidate;
                        break;
                    }
                    candidate.channel.close();
                }
                if (c == null && !endpoint.reserve()) {
                    return;
                }
                Exchange ex = waiters.pollFirst();
                waiterCount = waiters.size();
                waiting.decrementAndGet();
                ex.acquireTimer.cancel(false);
                acquireWaitMicros.recordValue(Math.max(0, (now - ex.waitStart) / 1000));
                if (c != null) {
                    reused.increment();
                    ex.attach(c, true);
                } else {
                    connect(ex);
                }
            }
        }

        void release(Connection c) {
            inUse.decrementAndGet();
            c.lastUsed = nanoTime.getAsLong();
            if (!c.usable(c.lastUsed)) {
                c.channel.close();
                return;
            }
            idle.addFirst(c);
            if (!waiters.isEmpty()) {
                serveWaiters();
            }
        }

        void connect(Exchange ex) {
            created.increment();
            Bootstrap b = new Bootstrap()
                    .group(loop)
                    .channel(channelClass)
                    .resolver(dns)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (endpoint.tls) {
                                SslHandler h = ssl.newHandler(ch.alloc(), endpoint.host, endpoint.port);
                                SSLParameters params = h.engine().getSSLParameters();
                                params.setEndpointIdentificationAlgorithm("HTTPS");
                                h.engine().setSSLParameters(params);
                                h.setHandshakeTimeoutMillis(settings.connectTimeout().toMillis());
                                ch.pipeline().addLast(h);
                            } else {
                                ch.pipeline().addLast(new HttpClientCodec());
                            }
                        }
                    });
            ChannelFuture f = b.connect(endpoint.host, endpoint.port);
            f.addListener(done -> {
                if (!done.isSuccess()) {
                    endpoint.closed();
                    Throwable cause = done.cause();
                    if (cause instanceof ConnectTimeoutException) {
                        ex.fail(UpstreamFailure.Kind.CONNECT_TIMEOUT, "connecting to " + endpoint.key + " took longer than "
                                + settings.connectTimeout().toMillis() + " ms");
                    } else {
                        ex.fail(UpstreamFailure.Kind.CONNECT_REFUSED, "cannot connect to " + endpoint.key + ": "
                                + (cause instanceof ConnectException ? "connection refused" : String.valueOf(cause.getMessage())));
                    }
                    return;
                }
                Channel ch = f.channel();
                SslHandler sslHandler = ch.pipeline().get(SslHandler.class);
                if (sslHandler == null) {
                    ex.attach(http1(ch), false);
                    return;
                }
                sslHandler.handshakeFuture().addListener(hs -> {
                    if (!hs.isSuccess()) {
                        ch.closeFuture().addListener(x -> endpoint.closed());
                        ex.fail(UpstreamFailure.Kind.TLS, "TLS handshake with " + endpoint.key + " failed: "
                                + rootMessage(hs.cause()));
                        ch.close();
                        return;
                    }
                    if (ApplicationProtocolNames.HTTP_2.equals(sslHandler.applicationProtocol())) {
                        H2Session session = new H2Session(this, ch, nanoTime.getAsLong());
                        h2 = session;
                        h2Connections.increment();
                        openStream(ex, false);
                        serveWaiters();
                    } else {
                        ch.pipeline().addLast(new HttpClientCodec());
                        ex.attach(http1(ch), false);
                    }
                });
            });
        }

        /** Makes {@code ch} (codec in place) a pooled HTTP/1.1 connection. */
        private Connection http1(Channel ch) {
            Connection c = new Connection(this, ch, nanoTime.getAsLong(), null);
            ch.pipeline().addLast(c);
            ch.closeFuture().addListener(x -> c.onClosed());
            return c;
        }

        /** Opens one HTTP/2 stream on this loop's session for {@code ex}; the stream speaks HTTP/1.1 objects. */
        void openStream(Exchange ex, boolean reusedSession) {
            H2Session session = h2;
            if (ex.done) {
                return;
            }
            if (session == null || !session.channel.isActive()) {
                acquire(ex, false);
                return;
            }
            session.streams++;
            new Http2StreamChannelBootstrap(session.channel)
                    .handler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel stream) {
                            stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
                        }
                    })
                    .open().addListener(opened -> {
                        if (!opened.isSuccess()) {
                            session.streamEnded();
                            ex.fail(UpstreamFailure.Kind.CONNECTION_CLOSED, "cannot open an HTTP/2 stream to "
                                    + endpoint.key + ": " + rootMessage(opened.cause()));
                            return;
                        }
                        Http2StreamChannel stream = (Http2StreamChannel) opened.getNow();
                        Connection c = new Connection(this, stream, nanoTime.getAsLong(), session);
                        stream.pipeline().addLast(c);
                        stream.closeFuture().addListener(x -> c.onClosed());
                        ex.attach(c, reusedSession);
                    });
        }

        void evictExpired(long now) {
            H2Session session = h2;
            if (session != null && !session.usable(now)) {
                h2 = null;
                session.retire();
            }
            Iterator<Connection> it = idle.iterator();
            while (it.hasNext()) {
                Connection c = it.next();
                if (!c.usable(now)) {
                    it.remove();
                    c.channel.close();
                }
            }
        }

        void closeAll() {
            if (h2 != null) {
                h2.channel.close();
                h2 = null;
            }
            Connection c;
            while ((c = idle.pollFirst()) != null) {
                c.channel.close();
            }
        }
    }

    /**
     * One HTTP/2 connection to an endpoint, shared by many streams (one per call); counts as one
     * connection against the per-endpoint maximum. Confined to its pool's loop.
     */
    private final class H2Session {
        final LoopPool pool;
        final Channel channel;
        final long createdAt;
        long lastUsed;
        int streams;
        boolean retired;

        H2Session(LoopPool pool, Channel channel, long createdAt) {
            this.pool = pool;
            this.channel = channel;
            this.createdAt = createdAt;
            this.lastUsed = createdAt;
            channel.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
            channel.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            channel.closeFuture().addListener(x -> {
                if (pool.h2 == this) {
                    pool.h2 = null;
                }
                pool.endpoint.closed();
            });
        }

        boolean usable(long now) {
            return !retired && channel.isActive()
                    && (streams > 0 || now - lastUsed < settings.idleTimeout().toNanos())
                    && now - createdAt < settings.maxLifetime().toNanos();
        }

        void streamEnded() {
            streams--;
            lastUsed = nanoTime.getAsLong();
            if (retired && streams == 0) {
                channel.close();
            }
        }

        void retire() {
            retired = true;
            if (streams == 0) {
                channel.close();
            }
        }
    }

    /**
     * One pooled HTTP/1.1 connection, or one HTTP/2 stream ({@link #session} set); its handler
     * forwards responses to the exchange it carries.
     */
    private final class Connection extends ChannelInboundHandlerAdapter {
        final LoopPool pool;
        final Channel channel;
        final long createdAt;
        final H2Session session;
        long lastUsed;
        Exchange exchange;
        boolean closed;

        Connection(LoopPool pool, Channel channel, long createdAt, H2Session session) {
            this.pool = pool;
            this.channel = channel;
            this.createdAt = createdAt;
            this.lastUsed = createdAt;
            this.session = session;
        }

        boolean usable(long now) {
            return !closed && channel.isActive()
                    && now - lastUsed < settings.idleTimeout().toNanos()
                    && now - createdAt < settings.maxLifetime().toNanos();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Exchange ex = exchange;
            if (ex == null) {
                // Bytes on an idle connection: the server is confused or closing; do not reuse it.
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            ex.onMessage(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Exchange ex = exchange;
            if (ex != null) {
                ex.brokenConnection("connection to " + pool.endpoint.key + " failed: " + rootMessage(cause));
            }
            ctx.close();
        }

        void onClosed() {
            if (closed) {
                return;
            }
            closed = true;
            Exchange ex = exchange;
            if (ex != null) {
                ex.brokenConnection(pool.endpoint.key + " closed the "
                        + (session != null ? "HTTP/2 stream" : "connection") + " before the response was complete");
            }
            if (session != null) {
                session.streamEnded();
                return;
            }
            pool.idle.remove(this);
            pool.endpoint.closed();
        }
    }

    /** One request/response; runs on the pool's loop. */
    private final class Exchange implements UpstreamCall {
        final LoopPool pool;
        final UpstreamRequest request;
        final UpstreamListener listener;
        final ByteBuf body;
        Connection connection;
        boolean connectionReused;
        boolean headSeen;
        boolean done;
        boolean retried;
        boolean keepAlive;
        long waitStart;
        final long acquireStart;
        boolean acquired;
        ScheduledFuture<?> acquireTimer;
        ScheduledFuture<?> firstByteTimer;
        ScheduledFuture<?> idleTimer;
        ScheduledFuture<?> totalTimer;

        Exchange(LoopPool pool, UpstreamRequest request, UpstreamListener listener) {
            this.acquireStart = nanoTime.getAsLong();
            this.pool = pool;
            this.request = request;
            this.listener = listener;
            this.body = request.body();
        }

        void begin() {
            if (request.totalTimeoutMs() > 0) {
                totalTimer = pool.loop.schedule(() -> timeout(UpstreamFailure.Kind.TOTAL_TIMEOUT,
                        "the whole call to " + pool.endpoint.key + " took longer than " + request.totalTimeoutMs() + " ms"),
                        request.totalTimeoutMs(), TimeUnit.MILLISECONDS);
            }
            pool.acquire(this, false);
        }

        void attach(Connection c, boolean wasReused) {
            if (done) {
                // Cancelled or timed out while connecting: keep the fresh connection for others
                // (a fresh HTTP/2 stream is just closed; its session stays).
                c.exchange = null;
                if (c.session != null) {
                    c.channel.close();
                    return;
                }
                inUse.incrementAndGet();
                pool.release(c);
                return;
            }
            if (!acquired) {
                acquired = true;
                stats.record(Component.CONNECTION_POOL, nanoTime.getAsLong() - acquireStart, 0, 0, false);
            }
            connection = c;
            connectionReused = wasReused;
            c.exchange = this;
            inUse.incrementAndGet();
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(),
                    pathAndQuery(request.uri()), body.retainedDuplicate());
            req.headers().set(request.headers());
            req.headers().set(HttpHeaderNames.HOST, hostHeader());
            HttpUtil.setContentLength(req, body.readableBytes());
            HttpUtil.setKeepAlive(req, true);
            if (request.firstByteTimeoutMs() > 0) {
                firstByteTimer = pool.loop.schedule(() -> timeout(UpstreamFailure.Kind.FIRST_BYTE_TIMEOUT,
                        pool.endpoint.key + " sent no response within " + request.firstByteTimeoutMs() + " ms"),
                        request.firstByteTimeoutMs(), TimeUnit.MILLISECONDS);
            }
            c.channel.writeAndFlush(req).addListener(w -> {
                if (!w.isSuccess()) {
                    brokenConnection("writing the request to " + pool.endpoint.key + " failed: " + rootMessage(w.cause()));
                    c.channel.close();
                }
            });
        }

        void onMessage(Object msg) {
            if (done) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpResponse head) {
                headSeen = true;
                stop(firstByteTimer);
                if (head.decoderResult().isFailure()) {
                    ReferenceCountUtil.release(msg);
                    protocolError("unreadable response from " + pool.endpoint.key + ": " + head.decoderResult().cause());
                    return;
                }
                keepAlive = HttpUtil.isKeepAlive(head);
                listener.onHead(head.status().code(), head.headers());
                armIdle();
            }
            if (msg instanceof HttpContent content) {
                boolean last = content instanceof LastHttpContent;
                if (done) {
                    content.release();
                    return;
                }
                if (last) {
                    finish();
                }
                try {
                    listener.onContent(content.content(), last);
                } finally {
                    // The listener keeps what it retains; the read buffer itself goes back here.
                    content.release();
                }
                if (!last) {
                    armIdle();
                }
            } else if (!(msg instanceof HttpResponse)) {
                ReferenceCountUtil.release(msg);
            }
        }

        private void armIdle() {
            if (request.idleTimeoutMs() > 0 && !done) {
                stop(idleTimer);
                idleTimer = pool.loop.schedule(() -> timeout(UpstreamFailure.Kind.IDLE_TIMEOUT,
                        pool.endpoint.key + " sent nothing for " + request.idleTimeoutMs() + " ms in the middle of the response"),
                        request.idleTimeoutMs(), TimeUnit.MILLISECONDS);
            }
        }

        /** The response is complete: give the connection back (or close it) and stop the timers. */
        private void finish() {
            done = true;
            stopTimers();
            body.release();
            Connection c = connection;
            connection = null;
            c.exchange = null;
            if (c.session != null) {
                // An HTTP/2 stream carries one exchange; its session stays for the next.
                inUse.decrementAndGet();
                c.channel.close();
            } else if (keepAlive) {
                pool.release(c);
            } else {
                inUse.decrementAndGet();
                c.channel.close();
            }
        }

        void brokenConnection(String message) {
            if (done) {
                return;
            }
            Connection c = connection;
            if (c != null) {
                c.exchange = null;
                connection = null;
                inUse.decrementAndGet();
                c.channel.close();
            }
            if (!headSeen && connectionReused && !retried) {
                // A pooled connection the server had already closed: try once more on a new one.
                retried = true;
                stop(firstByteTimer);
                pool.acquire(this, true);
                return;
            }
            fail(UpstreamFailure.Kind.CONNECTION_CLOSED, message);
        }

        private void protocolError(String message) {
            Connection c = connection;
            fail(UpstreamFailure.Kind.PROTOCOL, message);
            if (c != null) {
                c.channel.close();
            }
        }

        private void timeout(UpstreamFailure.Kind kind, String message) {
            if (done) {
                return;
            }
            Connection c = connection;
            fail(kind, message);
            if (c != null) {
                c.channel.close();
            }
        }

        void fail(UpstreamFailure.Kind kind, String message) {
            if (done) {
                return;
            }
            if (!acquired && (kind == UpstreamFailure.Kind.POOL_EXHAUSTED || kind == UpstreamFailure.Kind.CONNECT_REFUSED
                    || kind == UpstreamFailure.Kind.CONNECT_TIMEOUT || kind == UpstreamFailure.Kind.TLS)) {
                acquired = true;
                stats.record(Component.CONNECTION_POOL, nanoTime.getAsLong() - acquireStart, 0, 0, true);
            }
            stopWithoutAnswer();
            listener.onFailure(new UpstreamFailure(kind, message));
        }

        @Override
        public void cancel() {
            if (!pool.loop.inEventLoop()) {
                pool.loop.execute(this::cancel);
                return;
            }
            if (done) {
                return;
            }
            Connection c = stopWithoutAnswer();
            if (c != null) {
                // Its response is unfinished, so it cannot carry another request: close it.
                c.channel.close();
            }
        }

        /** Ends the exchange before its response completed; returns the connection it held, detached. */
        private Connection stopWithoutAnswer() {
            done = true;
            stopTimers();
            pool.removeWaiter(this);
            body.release();
            Connection c = connection;
            if (c != null) {
                c.exchange = null;
                connection = null;
                inUse.decrementAndGet();
            }
            return c;
        }

        @Override
        public void setReading(boolean reading) {
            Connection c = connection;
            if (c != null) {
                c.channel.config().setAutoRead(reading);
            }
        }

        private void stopTimers() {
            stop(acquireTimer);
            stop(firstByteTimer);
            stop(idleTimer);
            stop(totalTimer);
        }

        private String hostHeader() {
            int port = pool.endpoint.port;
            boolean defaultPort = pool.endpoint.tls ? port == 443 : port == 80;
            return defaultPort ? pool.endpoint.host : pool.endpoint.host + ":" + port;
        }
    }

    private static void stop(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private static String pathAndQuery(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return m == null ? root.getClass().getSimpleName() : m;
    }
}
