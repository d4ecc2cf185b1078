package io.fastlitellm.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
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
 * One Lettuce connection to the shared Redis, and the scripts run over it.
 *
 * <p>Promises: a caller never waits for Redis longer than the budget it passes ({@link #await});
 * while the connection is down commands fail at once instead of queueing
 * ({@code REJECT_COMMANDS}); a connection lost mid-run is re-established by Lettuce (every 200 ms),
 * and one that could not be made at start by this class (every 500 ms), so Redis may start after
 * the gateway. Scripts run by SHA ({@code EVALSHA}) and are sent in full only when Redis answers
 * {@code NOSCRIPT} (a restarted server).
 *
 * <p>Concurrency: {@code connection} is written by the connect attempts only (the reconnect thread,
 * at most one attempt at a time) and read by any thread; Lettuce connections are thread-safe.
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
    private final RedisClient client;
    private final ScheduledExecutorService background;
    /** Ends checks that Redis did not answer within their budget; runs nothing that waits. */
    private final ScheduledThreadPoolExecutor budgetTimer;
    private final Consumer<String> log;
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile boolean closed;

    RedisLink(RedisSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(1)
                .computationThreadPoolSize(1)
                .reconnectDelay(Delay.constant(Duration.ofMillis(200)))
                .build();
        this.client = RedisClient.create(resources, RedisURI.create(settings.uri()));
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofMillis(500)).keepAlive(true).build())
                // A command nobody waits for any more (past its budget) is not kept forever; but
                // never before the budget ends, or a budget over that timeout would be cut short.
                .timeoutOptions(TimeoutOptions.enabled(settings.budget().plusSeconds(2)))
                .build());
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
                StatefulRedisConnection<String, String> c = connection;
                if (c != null && handler == c) {
                    for (Script s : ALL) {
                        c.async().scriptLoad(s.source());
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
        try {
            StatefulRedisConnection<String, String> c = client.connect();
            for (Script s : ALL) {
                c.sync().scriptLoad(s.source());
            }
            connection = c;
            return true;
        } catch (RuntimeException e) {
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
        StatefulRedisConnection<String, String> c = connection;
        return c != null && c.isOpen() && !closed;
    }

    /**
     * Runs {@code script} on {@code key} without waiting. Fails the future at once when Redis is down.
     */
    <T> CompletableFuture<T> run(Script script, ScriptOutputType type, String[] keys, String... args) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null || closed) {
            return CompletableFuture.failedFuture(new SharedStateUnavailableException("is not connected"));
        }
        RedisAsyncCommands<String, String> cmd = c.async();
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
        StatefulRedisConnection<String, String> c = connection;
        if (c == null || closed) {
            return CompletableFuture.failedFuture(new SharedStateUnavailableException("is not connected"));
        }
        RedisAsyncCommands<String, String> cmd = c.async();
        CompletableFuture<byte[]> first = cmd.dispatch(CommandType.EVALSHA, new ByteArrayOutput<>(StringCodec.UTF8),
                binaryArgs(script.sha(), keys, arg)).toCompletableFuture();
        return first.exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                ? cmd.dispatch(CommandType.EVAL, new ByteArrayOutput<>(StringCodec.UTF8),
                        binaryArgs(script.source(), keys, arg)).toCompletableFuture()
                : CompletableFuture.failedFuture(unwrap(e)));
    }

    /**
     * {@code script numkeys key... arg}, the keys as ready bytes (a single Redis needs no key
     * routing, and Lettuce encodes a String key through a pooled buffer of its own).
     */
    private static CommandArgs<String, String> binaryArgs(String script, byte[][] keys, byte[] arg) {
        CommandArgs<String, String> a = new CommandArgs<>(StringCodec.UTF8).add(script).add(keys.length);
        for (byte[] k : keys) {
            a.add(k);
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
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
