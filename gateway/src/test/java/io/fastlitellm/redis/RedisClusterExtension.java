package io.fastlitellm.redis;

import io.lettuce.core.cluster.SlotHash;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real three-primary Redis Cluster on free loopback ports for the tests of one class: three
 * {@code redis-server --cluster-enabled yes} processes, the 16,384 slots split evenly between them
 * ({@code CLUSTER ADDSLOTSRANGE}), joined with {@code CLUSTER MEET}, and ready once every node says
 * {@code cluster_state:ok}. No persistence but each node's {@code nodes.conf}, so that a stopped node
 * started again rejoins as itself. Needs Redis 7 (Debian 12's redis-server is 7.0).
 */
public final class RedisClusterExtension implements BeforeAllCallback, AfterAllCallback {
    static final int NODES = 3;

    private final int[] ports = new int[NODES];
    private final int[] busPorts = new int[NODES];
    private final Process[] processes = new Process[NODES];
    private Path dir;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("fl-redis-cluster");
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                held.add(b);
                ports[i] = s.getLocalPort();
                busPorts[i] = b.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        for (int i = 0; i < NODES; i++) {
            start(i);
        }
        int per = 16384 / NODES;
        for (int i = 0; i < NODES; i++) {
            int first = i * per;
            int last = i == NODES - 1 ? 16383 : first + per - 1;
            expectOk(call(ports[i], "CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last)));
        }
        for (int i = 1; i < NODES; i++) {
            expectOk(call(ports[0], "CLUSTER", "MEET", "127.0.0.1", Integer.toString(ports[i]), Integer.toString(busPorts[i])));
        }
        awaitOk();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        for (int i = 0; i < NODES; i++) {
            stop(i);
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** Every node's URI: the startup nodes a client may be given. */
    public List<String> uris() {
        List<String> out = new ArrayList<>();
        for (int port : ports) {
            out.add("redis://127.0.0.1:" + port);
        }
        return out;
    }

    /** The nodes as LiteLLM's {@code redis_startup_nodes} / {@code REDIS_CLUSTER_NODES} list, in JSON (so YAML too). */
    public String startupNodesJson() {
        List<String> out = new ArrayList<>();
        for (int port : ports) {
            out.add("{\"host\": \"127.0.0.1\", \"port\": " + port + "}");
        }
        return "[" + String.join(", ", out) + "]";
    }

    /** The node (0..2) that owns {@code key}'s slot. */
    public int nodeOf(String key) {
        return Math.min(NODES - 1, SlotHash.getSlot(key) / (16384 / NODES));
    }

    /** Runs a command on the node that owns {@code key}'s slot; see {@link #call(int, String...)} for the answer. */
    public Object onNodeOf(String key, String... args) {
        return call(ports[nodeOf(key)], args);
    }

    /** Runs a command on node {@code node}. */
    public Object onNode(int node, String... args) {
        return call(ports[node], args);
    }

    /** Starts node {@code i} (again, same ports and nodes.conf) and waits until it answers PING. */
    public synchronized void start(int i) throws IOException, InterruptedException {
        if (processes[i] != null && processes[i].isAlive()) {
            return;
        }
        try {
            processes[i] = new ProcessBuilder("redis-server", "--port", Integer.toString(ports[i]),
                    "--cluster-port", Integer.toString(busPorts[i]), "--bind", "127.0.0.1", "--protected-mode", "no",
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + ports[i] + ".conf",
                    "--cluster-node-timeout", "2000", "--dir", dir.toString(), "--save", "", "--appendonly", "no")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("node" + i + ".log").toFile()).start();
        } catch (IOException e) {
            throw new IOException("cannot start redis-server (install it: apt-get install -y redis-server): " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"PONG".equals(call(ports[i], "PING"))) {
            if (!processes[i].isAlive()) {
                throw new IOException("redis-server exited with " + processes[i].exitValue() + " on port " + ports[i]
                        + ": " + Files.readString(dir.resolve("node" + i + ".log")));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("redis-server did not answer PING on port " + ports[i] + " within 10 s");
            }
            Thread.sleep(20);
        }
    }

    /** Stops node {@code i} (SIGTERM, then SIGKILL) and waits until it is gone. */
    public synchronized void stop(int i) {
        Process p = processes[i];
        if (p == null) {
            return;
        }
        RedisServerExtension.terminate(p);
        processes[i] = null;
    }

    /** Waits (up to 30 s) until every node says the cluster is whole: all slots served, all nodes known. */
    public void awaitOk() throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < NODES; i++) {
            while (true) {
                Object info = call(ports[i], "CLUSTER", "INFO");
                if (info instanceof String s && s.contains("cluster_state:ok") && s.contains("cluster_known_nodes:" + NODES)) {
                    break;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("the cluster is not ok after 30 s; node " + i + " says: " + info);
                }
                Thread.sleep(50);
            }
        }
    }

    private static void expectOk(Object reply) throws IOException {
        if (!"OK".equals(reply)) {
            throw new IOException("cluster setup: " + reply);
        }
    }

    /**
     * Sends one command (RESP) and reads its answer: a String for simple and bulk strings (null for a
     * nil), "-ERR ..." for an error, a Long for an integer, a List for an array; null when the node
     * cannot be reached.
     */
    static Object call(int port, String... args) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.UTF_8));
            for (String a : args) {
                byte[] b = a.getBytes(StandardCharsets.UTF_8);
                req.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.UTF_8));
                req.writeBytes(b);
                req.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
            }
            OutputStream out = s.getOutputStream();
            out.write(req.toByteArray());
            out.flush();
            return read(s.getInputStream());
        } catch (IOException e) {
            return null;
        }
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        return switch (type) {
            case '+' -> line;
            case '-' -> "-" + line;
            case ':' -> Long.parseLong(line);
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield null;
                }
                byte[] b = in.readNBytes(n + 2);
                yield new String(b, 0, n, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(read(in));
                }
                yield items;
            }
            default -> throw new IOException("unexpected reply type " + type);
        };
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\r'; ) {
            sb.append((char) c);
        }
        in.read(); // \n
        return sb.toString();
    }
}
