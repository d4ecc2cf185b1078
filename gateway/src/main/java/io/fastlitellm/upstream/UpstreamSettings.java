package io.fastlitellm.upstream;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Connection pool and timeout settings for calls to providers.
 *
 * @param maxConnectionsPerEndpoint connections open at once to one scheme://host:port
 * @param maxPendingAcquires requests that may wait for a connection per endpoint and event loop;
 *     more are refused at once (a clear 503) rather than queued without bound
 * @param acquireTimeout how long a request may wait for a connection
 * @param connectTimeout TCP (and TLS) connect budget
 * @param idleTimeout an idle pooled connection older than this is closed
 * @param maxLifetime a connection older than this is not reused
 * @param caFile an extra PEM trust anchor for private endpoints (null: the system trust store only)
 */
public record UpstreamSettings(int maxConnectionsPerEndpoint, int maxPendingAcquires, Duration acquireTimeout,
                               Duration connectTimeout, Duration idleTimeout, Duration maxLifetime, Path caFile) {

    public UpstreamSettings {
        if (maxConnectionsPerEndpoint < 1) {
            throw new IllegalArgumentException("maxConnectionsPerEndpoint: " + maxConnectionsPerEndpoint + " (expected: >= 1)");
        }
        if (maxPendingAcquires < 0) {
            throw new IllegalArgumentException("maxPendingAcquires: " + maxPendingAcquires + " (expected: >= 0)");
        }
    }

    public static UpstreamSettings defaults() {
        return new UpstreamSettings(256, 4096, Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofSeconds(60), Duration.ofMinutes(10), null);
    }

    public UpstreamSettings withMaxConnections(int n) {
        return new UpstreamSettings(n, maxPendingAcquires, acquireTimeout, connectTimeout, idleTimeout, maxLifetime, caFile);
    }

    public UpstreamSettings withCaFile(Path ca) {
        return new UpstreamSettings(maxConnectionsPerEndpoint, maxPendingAcquires, acquireTimeout, connectTimeout,
                idleTimeout, maxLifetime, ca);
    }

    public UpstreamSettings withIdle(Duration idle, Duration lifetime) {
        return new UpstreamSettings(maxConnectionsPerEndpoint, maxPendingAcquires, acquireTimeout, connectTimeout,
                idle, lifetime, caFile);
    }
}
