package io.fastlitellm.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.ByteArrayOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One Lettuce connection to the shared Redis (one server, or a Redis Cluster), and the scripts run
 * over it.
 *
 * <p>Promises: a caller never waits for Redis longer than the budget it passes ({@link #await});
 * while the connection is down commands fail at once instead of queueing
 * ({@code REJECT_COMMANDS}); a connection lost mid-run is re-established by Lettuce (every 200 ms),
 * and one that could not be made at start by this class (every 500 ms), so Redis may start after
 * the gateway. Scripts run by SHA ({@code EVALSHA}) and are sent in full only when Redis answers
 * {@code NOSCRIPT} (a restarted server).
 *
 * <p>Redis Cluster: a {@link RedisClusterClient} discovers the cluster from any startup node, sends
 * each command to the primary that owns its first key's slot, follows {@code MOVED}/{@code ASK}, and
 * refreshes the topology on redirects, on reconnects and every 30 s. A script's keys must share one
 * slot (Redis refuses others with {@code CROSSSLOT}); the callers' keys do (see
 * {@link RedisLimitStore}'s and {@link RedisDeploymentStateStore}'s hash tags). Scripts are loaded
 * on every node, and again on a node whenever its connection is made again.
 *
 * <p>Concurrency: {@code connection} and {@code commands} are written by the connect attempts only
 * (the reconnect thread, at most one attempt at a time) and read by any thread; Lettuce connections
 * are thread-safe.
 */
final class RedisLink implements AutoCloseable {

    /** A Lua script and its SHA-1, so that it can be run with EVALSHA. */
    record Script(String name, String source, String sha) {
        static Script of(String name, String source) {
            try {
                byte[] d = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
                Script s = new Script(name, source, HexFormat.of().formatHex(d));
                ALL.add(s);
                return s;
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is part of every JDK", e);
            }
        }
    }

    /**
     * Every script, loaded on each (re)connect before anything else is sent: a NOSCRIPT answer then
     * happens only after a {@code SCRIPT FLUSH}, and the EVAL it triggers may land after commands
     * sent later on the connection (fire-and-forget adjustments would then apply a moment late).
     */
    private static final List<Script> ALL = new CopyOnWriteArrayList<>();

    private final RedisSettings settings;
    private final ClientResources resources;
    /** A {@link RedisClient}, or a {@link RedisClusterClient} for a cluster. */
    private final AbstractRedisClient client;
    private final ScheduledExecutorService background;
    /** Ends checks that Redis did not answer within their budget; runs nothing that waits. */
    private final ScheduledThreadPoolExecutor budgetTimer;
    private final Consumer<String> log;
    private volatile StatefulConnection<String, String> connection;
    /** {@code connection}'s commands: both kinds of connection serve the cluster-safe subset. */
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile boolean closed;

    RedisLink(RedisSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(1)
                .computationThreadPoolSize(1)
                .reconnectDelay(Delay.constant(Duration.ofMillis(200)))
                .build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(Duration.ofMillis(500)).keepAlive(true).build();
        // A command nobody waits for any more (past its budget) is not kept forever; but never
        // before the budget ends, or a budget over that timeout would be cut short.
        TimeoutOptions timeouts = TimeoutOptions.enabled(settings.budget().plusSeconds(2));
        if (settings.cluster()) {
            RedisClusterClient cc = RedisClusterClient.create(resources,
                    settings.uris().stream().map(RedisURI::create).toList());
            cc.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(socket)
                    .timeoutOptions(timeouts)
                    // Follow a failover or a resharding: at once on a redirect or lost node (at most
                    // every 5 s), and every 30 s regardless.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(5))
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .build())
                    .build());
            this.client = cc;
        } else {
            RedisClient rc = RedisClient.create(resources, RedisURI.create(settings.uris().get(0)));
            rc.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(socket)
                    .timeoutOptions(timeouts)
                    .build());
            this.client = rc;
        }
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fast-litellm-redis");
            t.setDaemon(true);
            return t;
        });
        this.budgetTimer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "fast-litellm-redis-budget");
            t.setDaemon(true);
            return t;
        });
        // Almost every check answers in time and cancels its timer: drop cancelled ones at once.
        budgetTimer.setRemoveOnCancelPolicy(true);
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, java.net.SocketAddress address) {
                // A server connected again (after a restart, perhaps without its scripts): load them
                // there, on that server's own connection (one cluster node's, or the one Redis's).
                // The first connect loads them itself, before the connection is published.
                if (connection != null && !closed && handler instanceof StatefulRedisConnection<?, ?> server) {
                    for (Script s : ALL) {
                        server.async().scriptLoad(s.source());
                    }
                }
            }
        });
        if (!tryConnect()) {
            log.accept("fast-litellm: warning: Redis at " + settings.redactedUri() + " is not reachable (retrying every"
                    + " 500 ms); until it is, limit checks follow redis_failure_policy: "
                    + settings.failurePolicy().name().toLowerCase(java.util.Locale.ROOT));
            background.schedule(this::reconnectLoop, 500, TimeUnit.MILLISECONDS);
        }
    }

    private boolean tryConnect() {
        StatefulConnection<String, String> c = null;
        try {
            RedisClusterAsyncCommands<String, String> cmd;
            if (client instanceof RedisClusterClient cc) {
                StatefulRedisClusterConnection<String, String> cluster = cc.connect();
                c = cluster;
                cmd = cluster.async();
            } else {
                StatefulRedisConnection<String, String> single = ((RedisClient) client).connect();
                c = single;
                cmd = single.async();
            }
            for (Script s : ALL) {
                try {
                    // On a cluster, SCRIPT LOAD goes to every node.
                    cmd.scriptLoad(s.source()).get(settings.budget().toMillis() + 2000, TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    // One node of a cluster may be down (failed over, or not serving slots we use):
                    // it gets the scripts when it connects again (the listener above), and until
                    // then a script it lacks is sent in full (NOSCRIPT, then EVAL). One Redis that
                    // cannot load them cannot serve us either.
                    if (!settings.cluster()) {
                        throw e;
                    }
                }
            }
            commands = cmd;
            connection = c;
            return true;
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            if (c != null) {
                c.closeAsync();
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (c != null) {
                c.closeAsync();
            }
            return false;
        }
    }

    private void reconnectLoop() {
        if (closed) {
            return;
        }
        if (tryConnect()) {
            log.accept("fast-litellm: Redis at " + settings.redactedUri() + " is reachable; limits are shared");
            if (closed) {
                connection.closeAsync();
            }
        } else {
            background.schedule(this::reconnectLoop, 500, TimeUnit.MILLISECONDS);
        }
    }

    RedisSettings settings() {
        return settings;
    }

    /** The thread for periodic work that may wait on Redis (refreshes); never a request's thread. */
    ScheduledExecutorService background() {
        return background;
    }

    /**
     * The timer that ends a check at its budget. Separate from {@link #background()}, whose
     * refreshes may wait on Redis and would delay a timeout behind them.
     */
    ScheduledExecutorService budgetTimer() {
        return budgetTimer;
    }

    /** Whether commands can be sent now (a connection exists and is open). */
    boolean up() {
        StatefulConnection<String, String> c = connection;
        return c != null && c.isOpen() && !closed;
    }

    /**
     * Runs {@code script} on {@code key} without waiting. Fails the future at once when Redis is down.
     */
    <T> CompletableFuture<T> run(Script script, ScriptOutputType type, String[] keys, String... args) {
        RedisClusterAsyncCommands<String, String> cmd = commands;
        if (cmd == null || closed) {
            return CompletableFuture.failedFuture(new SharedStateUnavailableException("is not connected"));
        }
        CompletableFuture<T> first = cmd.<T>evalsha(script.sha(), type, keys, args).toCompletableFuture();
        return first.exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                ? cmd.<T>eval(script.source(), type, keys, args).toCompletableFuture()
                : CompletableFuture.failedFuture(unwrap(e)));
    }

    /**
     * Runs {@code script} on {@code keys} with one binary argument and a binary (bulk string) answer,
     * without waiting. Fails the future at once when Redis is down.
     *
     * <p>Why binary: a batch of limit calls as Lua strings was hundreds of arguments, each encoded by
     * Lettuce one by one on its single I/O thread (the busiest thread of a Redis-backed gateway), and
     * an answer of hundreds of integers, each decoded into a list; packed, it is one write and one
     * read of a byte array (docs/benchmarks/redis.md).
     */
    CompletableFuture<byte[]> runBinary(Script script, byte[][] keys, byte[] arg) {
        RedisClusterAsyncCommands<String, String> cmd = commands;
        if (cmd == null || closed) {
            return CompletableFuture.failedFuture(new SharedStateUnavailableException("is not connected"));
        }
        // The arguments carry their own codec (bytes): the connection's String codec is never used.
        @SuppressWarnings({"unchecked", "rawtypes"})
        BaseRedisAsyncCommands<byte[], byte[]> raw = (BaseRedisAsyncCommands) cmd;
        CompletableFuture<byte[]> first = raw.dispatch(CommandType.EVALSHA, new ByteArrayOutput<>(ByteArrayCodec.INSTANCE),
                binaryArgs(script.sha(), keys, arg)).toCompletableFuture();
        return first.exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                ? raw.dispatch(CommandType.EVAL, new ByteArrayOutput<>(ByteArrayCodec.INSTANCE),
                        binaryArgs(script.source(), keys, arg)).toCompletableFuture()
                : CompletableFuture.failedFuture(unwrap(e)));
    }

    /**
     * {@code script numkeys key... arg}, the keys as ready bytes (Lettuce encodes a String key
     * through a pooled buffer of its own) marked as keys, so that a cluster connection sends the
     * script to the node that owns their slot.
     */
    private static CommandArgs<byte[], byte[]> binaryArgs(String script, byte[][] keys, byte[] arg) {
        CommandArgs<byte[], byte[]> a = new CommandArgs<>(ByteArrayCodec.INSTANCE).add(script).add(keys.length);
        for (byte[] k : keys) {
            a.addKey(k);
        }
        return a.add(arg);
    }

    /**
     * Waits for {@code f} until {@code deadlineNanos} ({@link System#nanoTime}).
     *
     * @throws TimeoutException when the budget ran out (the command may still run on Redis)
     * @throws SharedStateUnavailableException when Redis failed the command or is unreachable
     */
    static <T> T await(CompletableFuture<T> f, long deadlineNanos) throws TimeoutException {
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SharedStateUnavailableException("was interrupted while waited for", e);
        }
    }

    /** What a failed command means for a caller: Redis is unavailable, and why. */
    static SharedStateUnavailableException failure(Throwable e) {
        Throwable cause = unwrap(e);
        return cause instanceof SharedStateUnavailableException s ? s
                : new SharedStateUnavailableException("failed (" + cause.getMessage() + ")", cause);
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    @Override
    public void close() {
        closed = true;
        background.shutdownNow();
        budgetTimer.shutdownNow();
        StatefulConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
