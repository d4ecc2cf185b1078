package io.fastlitellm.bench.redis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A three-primary Redis Cluster on free loopback ports for {@code bench redis --cluster}: three
 * {@code redis-server --cluster-enabled yes} processes, the slots split evenly
 * ({@code CLUSTER ADDSLOTSRANGE}), joined with {@code CLUSTER MEET}; ready once every node says
 * {@code cluster_state:ok}. No persistence; its directory is removed on {@link #close}. Redis 7.
 */
final class LocalRedisCluster implements AutoCloseable {
    private static final int NODES = 3;

    private final Path dir;
    private final int[] ports = new int[NODES];
    private final List<Process> processes = new ArrayList<>();

    private LocalRedisCluster(Path dir) {
        this.dir = dir;
    }

    static LocalRedisCluster start() throws Exception {
        LocalRedisCluster c = new LocalRedisCluster(Files.createTempDirectory("fl-bench-cluster"));
        try {
            c.boot();
            return c;
        } catch (Exception e) {
            c.close();
            throw e;
        }
    }

    private void boot() throws Exception {
        int[] bus = new int[NODES];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
                held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
                ports[i] = held.get(2 * i).getLocalPort();
                bus[i] = held.get(2 * i + 1).getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        String binary = new java.io.File("/usr/bin/redis-server").canExecute() ? "/usr/bin/redis-server" : "redis-server";
        for (int i = 0; i < NODES; i++) {
            processes.add(new ProcessBuilder(binary, "--port", Integer.toString(ports[i]), "--cluster-port",
                    Integer.toString(bus[i]), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file",
                    "nodes-" + ports[i] + ".conf", "--dir", dir.toString(), "--save", "", "--appendonly", "no")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        }
        int per = 16384 / NODES;
        for (int i = 0; i < NODES; i++) {
            RedisBenchCommand.waitForRedis(ports[i]);
            int last = i == NODES - 1 ? 16383 : (i + 1) * per - 1;
            expectOk(RedisBenchCommand.info(ports[i], "CLUSTER ADDSLOTSRANGE " + i * per + " " + last));
        }
        for (int i = 1; i < NODES; i++) {
            expectOk(RedisBenchCommand.info(ports[0], "CLUSTER MEET 127.0.0.1 " + ports[i] + " " + bus[i]));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int port : ports) {
            while (!RedisBenchCommand.info(port, "CLUSTER INFO").contains("cluster_state:ok")) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("the local Redis Cluster is not ok after 30 s");
                }
                Thread.sleep(50);
            }
        }
    }

    private static void expectOk(String reply) throws IOException {
        if (!reply.startsWith("+OK")) {
            throw new IOException("cluster setup: " + reply);
        }
    }

    /** The nodes as a {@code redis_startup_nodes} list (JSON, so YAML too). */
    String startupNodesJson() {
        List<String> out = new ArrayList<>();
        for (int port : ports) {
            out.add("{\"host\": \"127.0.0.1\", \"port\": " + port + "}");
        }
        return "[" + String.join(", ", out) + "]";
    }

    /** EVALSHA calls run so far on all nodes. */
    long evalshaCalls() throws IOException {
        long sum = 0;
        for (int port : ports) {
            sum += RedisBenchCommand.evalshaCalls(port);
        }
        return sum;
    }

    @Override
    public void close() throws IOException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
