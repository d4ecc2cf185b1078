package io.fastlitellm.bench.upstream;

import io.fastlitellm.mockserver.MockServer;
import io.fastlitellm.upstream.UpstreamClient;
import io.fastlitellm.upstream.UpstreamFailure;
import io.fastlitellm.upstream.UpstreamListener;
import io.fastlitellm.upstream.UpstreamRequest;
import io.fastlitellm.upstream.UpstreamSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One provider call through {@link UpstreamClient} to the mock upstream on loopback: with the
 * connection pool ({@code pooled}: keep-alive, connections reused) beside a client that opens a
 * new connection for every call ({@code fresh}: maximum lifetime zero), the seed's "connection
 * pool" comparison made with real sockets. Run single-threaded and with 8 calling threads:
 *
 * <pre>
 * ./fast-litellm bench jmh UpstreamPoolBenchmark -t 1 -wi 2 -i 3 -f 1 -w 2s -r 2s
 * ./fast-litellm bench jmh UpstreamPoolBenchmark -t 8 -wi 2 -i 3 -f 1 -w 2s -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class UpstreamPoolBenchmark {
    private static final byte[] BODY = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
            .getBytes(StandardCharsets.UTF_8);

    @Param({"pooled", "fresh"})
    public String pool;

    private MockServer server;
    private EventLoopGroup group;
    private UpstreamClient client;
    private URI uri;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        server = MockServer.start("127.0.0.1", 0, 0, null);
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        UpstreamSettings settings = UpstreamSettings.defaults();
        if (pool.equals("fresh")) {
            settings = settings.withIdle(Duration.ofSeconds(60), Duration.ZERO);
        }
        client = new UpstreamClient(settings, System::nanoTime, NioSocketChannel.class);
        uri = server.url().resolve("/v1/chat/completions");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        server.close();
    }

    @Benchmark
    public int call() throws Exception {
        EventLoop loop = group.next();
        CompletableFuture<Integer> done = new CompletableFuture<>();
        HttpHeaders headers = new DefaultHttpHeaders().set("content-type", "application/json");
        UpstreamRequest req = new UpstreamRequest(HttpMethod.POST, uri, headers, Unpooled.wrappedBuffer(BODY),
                5000, 5000, 10000);
        loop.execute(() -> client.send(loop, req, new UpstreamListener() {
            int status;

            @Override
            public void onHead(int s, HttpHeaders h) {
                status = s;
            }

            @Override
            public void onContent(ByteBuf content, boolean last) {
                if (last) {
                    done.complete(status);
                }
            }

            @Override
            public void onFailure(UpstreamFailure failure) {
                done.completeExceptionally(new IllegalStateException(failure.message()));
            }
        }));
        return done.get(10, TimeUnit.SECONDS);
    }
}
