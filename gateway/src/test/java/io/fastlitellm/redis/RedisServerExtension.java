package io.fastlitellm.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real {@code redis-server} on a free loopback port for the tests of one class: started before
 * them, stopped after, with no persistence. Tests may {@link #stop()} and {@link #start()} it
 * again (same port) to play Redis going away mid-run.
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback {
    private int port;
    private Process process;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    private static String binary() {
        for (String p : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "redis-server"; // on PATH, or the start fails with a clear message below
    }

    /** Starts the server (again) on {@link #port()} and waits until it answers PING. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            process = new ProcessBuilder(binary(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--protected-mode", "no")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new IOException("cannot start redis-server (install it: apt-get install -y redis-server): " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with " + process.exitValue() + " on port " + port);
            }
            if ("+PONG".equals(command("PING"))) {
                return;
            }
            Thread.sleep(20);
        }
        throw new IOException("redis-server did not answer PING on port " + port + " within 10 s");
    }

    /** Stops the server (SIGTERM, then SIGKILL) and waits until it is gone. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        terminate(process);
        process = null;
    }

    /** Stops {@code p} (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
    static void terminate(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends one inline command and returns the first line of the answer, or null when unreachable. */
    /**
     * The requests in flight Redis holds for {@code key} in limit scope {@code scope} (see
     * {@code RedisLimitStore.redisKeyBytes}: one string of three doubles), or "nil" when it holds none.
     */
    public String limitInFlight(String scope, String key) {
        String r = command("EVAL \"local v = redis.call('GET', KEYS[1]) if not v then return {ok='nil'} end"
                + " local rt, tt, p = struct.unpack('<ddd', v) return {ok=string.format('%d', p)}\" 1 {fl:l}:"
                + scope + ":" + key);
        return r != null && r.startsWith("+") ? r.substring(1) : r;
    }

    public String command(String inline) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\r'; ) {
                line.append((char) c);
            }
            return line.toString();
        } catch (IOException e) {
            return null;
        }
    }
}
