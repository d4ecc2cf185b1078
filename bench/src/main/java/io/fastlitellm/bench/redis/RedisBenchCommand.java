package io.fastlitellm.bench.redis;

import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.server.Gateway;
import io.fastlitellm.server.GatewayOptions;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fast-litellm bench redis [--connections C] [--seconds S] [--rounds R] [--redis-url URL] [--cluster]}:
 * the gateway's throughput with its key and deployment limits on Redis beside the same gateway with
 * in-memory limits, on the same load in the same run. One line per run:
 * {@code impl=<in-memory|redis|redis-cluster> round=N rps=X mean_us=.. p50_us=.. p99_us=.. errors=E},
 * then the ratio of the medians over rounds and the latency Redis adds. With {@code --cluster}, a
 * third variant per round: the same limits on a local three-primary Redis Cluster
 * ({@link LocalRedisCluster}), given to the gateway as {@code redis_startup_nodes}.
 *
 * <p>What it measures: an in-process gateway (one I/O thread per core, the {@code mock} provider
 * answering at once) behind C keep-alive HTTP/1.1 connections, each driven by one thread that sends
 * a chat completion with a virtual key, waits for the answer, and sends the next (closed loop). The
 * key has rpm/tpm limits and the deployment rpm/tpm limits, set far above what the run reaches, so
 * every request runs both checks (two Lua scripts on Redis, one round trip each) and none is
 * refused. Variants alternate round by round so that noise from a shared machine hits both. Without
 * {@code --redis-url} a {@code redis-server} (from PATH or /usr/bin) is started on a free loopback
 * port and stopped after. {@code evalsha_per_request} is read from Redis's INFO commandstats: 2
 * means every check went to Redis (none fell back to local limits).
 */
@Command(name = "redis", mixinStandardHelpOptions = true,
        description = "Gateway throughput with Redis-backed limits beside in-memory limits, same load, same run.")
public final class RedisBenchCommand implements Callable<Integer> {

    @Option(names = "--connections", description = "Concurrent keep-alive connections (default: ${DEFAULT-VALUE}).")
    int connections = 16;

    @Option(names = "--seconds", description = "Measured seconds per variant and round (default: ${DEFAULT-VALUE}).")
    int seconds = 5;

    @Option(names = "--rounds", description = "Rounds; each runs both variants (default: ${DEFAULT-VALUE}).")
    int rounds = 3;

    @Option(names = "--io-threads", description = "Gateway I/O threads (default: the gateway's default, one per core).")
    int ioThreads;

    @Option(names = "--redis-url", description = "An existing Redis to use (default: start redis-server on a free port).")
    String redisUrl;

    @Option(names = "--cluster", description = "Also run each round on a local three-primary Redis Cluster.")
    boolean cluster;

    private static final String BODY = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
            + "\"max_tokens\":16}";

    @Override
    public Integer call() throws Exception {
        if (connections < 1 || connections > 1024) {
            throw new IllegalArgumentException("--connections: " + connections + " (expected: 1..1024)");
        }
        if (seconds < 1 || seconds > 600) {
            throw new IllegalArgumentException("--seconds: " + seconds + " (expected: 1..600)");
        }
        if (rounds < 1 || rounds > 20) {
            throw new IllegalArgumentException("--rounds: " + rounds + " (expected: 1..20)");
        }
        Process redis = null;
        String url = redisUrl;
        int port = -1;
        if (url == null) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            redis = new ProcessBuilder(new java.io.File("/usr/bin/redis-server").canExecute() ? "/usr/bin/redis-server"
                    : "redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            url = "redis://127.0.0.1:" + port;
            waitForRedis(port);
        } else {
            port = java.net.URI.create(url).getPort();
        }
        LocalRedisCluster nodes = null;
        try {
            String memory = config("");
            String shared = config("  redis_url: " + url + "\n");
            String clustered = null;
            if (cluster) {
                nodes = LocalRedisCluster.start();
                clustered = config("  redis_startup_nodes: " + nodes.startupNodesJson() + "\n");
            }
            // Warm-up: the JIT, Lettuce's first connection, the scripts' first load.
            run(memory, 5, null);
            run(shared, 5, null);
            if (cluster) {
                run(clustered, 5, null);
            }
            List<Double> ratios = new ArrayList<>();
            List<Double> added = new ArrayList<>();
            List<Double> clusterRatios = new ArrayList<>();
            List<Double> clusterAdded = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                Result m = run(memory, seconds, null);
                long before = evalshaCalls(port);
                Result s = run(shared, seconds, null);
                long calls = evalshaCalls(port) - before;
                print("in-memory", r, m, "");
                print("redis", r, s, String.format(" evalsha_per_request=%.2f", (double) calls / Math.max(1, s.requests)));
                ratios.add(s.rps() / m.rps());
                added.add(s.hist.getMean() - m.hist.getMean());
                if (cluster) {
                    long cBefore = nodes.evalshaCalls();
                    Result c = run(clustered, seconds, null);
                    long cCalls = nodes.evalshaCalls() - cBefore;
                    print("redis-cluster", r, c, String.format(" evalsha_per_request=%.2f",
                            (double) cCalls / Math.max(1, c.requests)));
                    clusterRatios.add(c.rps() / m.rps());
                    clusterAdded.add(c.hist.getMean() - m.hist.getMean());
                }
            }
            summary("redis", ratios, added);
            if (cluster) {
                summary("redis-cluster", clusterRatios, clusterAdded);
            }
            return 0;
        } finally {
            if (nodes != null) {
                nodes.close();
            }
            if (redis != null) {
                redis.destroy();
                redis.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void summary(String impl, List<Double> ratios, List<Double> added) {
        ratios.sort(null);
        added.sort(null);
        System.out.printf("ratio %s/in-memory throughput: median %.2f (rounds: %s); added mean latency per request:"
                + " median %.0f us%n", impl, ratios.get(ratios.size() / 2), ratios, added.get(added.size() / 2));
    }

    private static String config(String redisLine) {
        return """
                model_list:
                  - model_name: bench
                    litellm_params: {model: mock/bench, mock_response: ok, rpm: 1000000000, tpm: 1000000000000}
                    model_info: {id: dep-bench}
                router_settings:
                """ + redisLine + """
                  num_retries: 0
                general_settings:
                  master_key: sk-master-bench
                virtual_keys:
                  - {key: sk-bench, rpm_limit: 1000000000, tpm_limit: 1000000000000}
                """;
    }

    private record Result(long requests, long errors, long nanos, Histogram hist) {
        double rps() {
            return requests * 1e9 / nanos;
        }
    }

    private static void print(String impl, int round, Result r, String extra) {
        System.out.printf("impl=%s round=%d rps=%.0f mean_us=%.0f p50_us=%d p99_us=%d errors=%d%s%n", impl, round,
                r.rps(), r.hist.getMean(), r.hist.getValueAtPercentile(50), r.hist.getValueAtPercentile(99), r.errors, extra);
    }

    private Result run(String yaml, int secs, Void unused) throws Exception {
        var config = new ConfigLoader(System::getenv, w -> { }).parse(yaml, "bench-redis.yaml");
        GatewayOptions.Builder options = GatewayOptions.builder().port(0).log(m -> { });
        if (ioThreads > 0) {
            options.ioThreads(ioThreads);
        }
        try (Gateway gw = Gateway.start(config, options.build())) {
            byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer sk-bench\r\nContent-Type: application/json\r\nContent-Length: "
                    + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong requests = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            List<Histogram> hists = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                Histogram h = new Histogram(60_000_000L, 2);
                hists.add(h);
                Thread t = new Thread(() -> drive(gw.port(), request, stop, requests, errors, h), "load-" + c);
                threads.add(t);
            }
            long t0 = System.nanoTime();
            threads.forEach(Thread::start);
            Thread.sleep(secs * 1000L);
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            long nanos = System.nanoTime() - t0;
            Histogram all = new Histogram(60_000_000L, 2);
            hists.forEach(all::add);
            return new Result(requests.get(), errors.get(), nanos, all);
        }
    }

    /** One closed-loop connection: send, read the whole answer (Content-Length), repeat. */
    private static void drive(int port, byte[] request, AtomicBoolean stop, AtomicLong requests, AtomicLong errors,
                              Histogram hist) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = new BufferedInputStream(s.getInputStream(), 16384);
            while (!stop.get()) {
                long start = System.nanoTime();
                out.write(request);
                out.flush();
                int status = readResponse(in);
                hist.recordValue(Math.min(60_000_000L, (System.nanoTime() - start) / 1000));
                requests.incrementAndGet();
                if (status != 200) {
                    errors.incrementAndGet();
                }
            }
        } catch (IOException e) {
            errors.incrementAndGet();
        }
    }

    private static int readResponse(InputStream in) throws IOException {
        String statusLine = readLine(in);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        int length = -1;
        for (String line; !(line = readLine(in)).isEmpty(); ) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (length < 0) {
            throw new IOException("response without content-length: " + statusLine);
        }
        in.skipNBytes(length);
        return status;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    static void waitForRedis(int port) throws Exception {
        for (int i = 0; i < 500; i++) {
            if (info(port, "PING").startsWith("+PONG")) {
                return;
            }
            Thread.sleep(20);
        }
        throw new IOException("redis-server did not answer on port " + port);
    }

    /** EVALSHA calls Redis has run so far ({@code INFO commandstats}). */
    static long evalshaCalls(int port) throws IOException {
        String stats = info(port, "INFO commandstats");
        int i = stats.indexOf("cmdstat_evalsha:calls=");
        if (i < 0) {
            return 0;
        }
        int from = i + "cmdstat_evalsha:calls=".length();
        return Long.parseLong(stats.substring(from, stats.indexOf(',', from)));
    }

    /** Sends an inline command; the first line of the answer, or a bulk string's text. */
    static String info(int port, String command) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            s.getOutputStream().write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String first = readLine(in);
            if (!first.startsWith("$")) {
                return first;
            }
            return new String(in.readNBytes(Integer.parseInt(first.substring(1))), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            if (command.equals("PING")) {
                return "";
            }
            throw e;
        }
    }
}
