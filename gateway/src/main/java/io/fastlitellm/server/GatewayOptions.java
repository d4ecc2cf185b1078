package io.fastlitellm.server;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * How to run a {@link Gateway}: where to listen and the injected clock and randomness (so tests are
 * deterministic). Immutable; build with {@link #builder()}.
 *
 * @param host address to bind, default {@code 127.0.0.1}
 * @param port port to bind, default 4000 (LiteLLM's); 0 picks a free one
 * @param drainTimeout how long {@link Gateway#close()} lets in-flight requests finish
 * @param ioThreads event loop threads; 0 means one per core
 * @param nanoTime the clock for durations ({@code System::nanoTime})
 * @param random randomness for routing and the mock provider
 * @param log receives the startup line and warnings
 */
public record GatewayOptions(String host, int port, Duration drainTimeout, int ioThreads,
                             LongSupplier nanoTime, RandomGenerator random, Consumer<String> log) {

    public static final int DEFAULT_PORT = 4000;

    public GatewayOptions {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout: " + drainTimeout + " (expected: >= 0)");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: >= 0)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with the defaults documented on {@link GatewayOptions}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = DEFAULT_PORT;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private int ioThreads;
        private LongSupplier nanoTime = System::nanoTime;
        private RandomGenerator random;
        private Consumer<String> log = System.err::println;

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder drainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
            return this;
        }

        public Builder ioThreads(int ioThreads) {
            this.ioThreads = ioThreads;
            return this;
        }

        public Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = nanoTime;
            return this;
        }

        /** A seeded source makes routing and mock failures repeatable. */
        public Builder random(RandomGenerator random) {
            this.random = random;
            return this;
        }

        public Builder log(Consumer<String> log) {
            this.log = log;
            return this;
        }

        public GatewayOptions build() {
            // Unseeded (production): each event loop draws from its own ThreadLocalRandom, no lock.
            // Seeded (tests): one generator behind a monitor, so a run repeats.
            RandomGenerator r = random != null ? synchronizedIfNeeded(random) : new RandomGenerator() {
                @Override
                public long nextLong() {
                    return ThreadLocalRandom.current().nextLong();
                }

                @Override
                public double nextDouble() {
                    return ThreadLocalRandom.current().nextDouble();
                }

                @Override
                public int nextInt(int bound) {
                    return ThreadLocalRandom.current().nextInt(bound);
                }
            };
            return new GatewayOptions(host, port, drainTimeout, ioThreads, nanoTime, r, log);
        }

        private static RandomGenerator synchronizedIfNeeded(RandomGenerator r) {
            // Event loops share it; SplittableRandom and Random's subclasses differ in safety, so wrap.
            return new RandomGenerator() {
                @Override
                public synchronized long nextLong() {
                    return r.nextLong();
                }

                @Override
                public synchronized double nextDouble() {
                    return r.nextDouble();
                }

                @Override
                public synchronized int nextInt(int bound) {
                    return r.nextInt(bound);
                }
            };
        }
    }
}
