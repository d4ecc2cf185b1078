package io.fastlitellm.server;

import io.fastlitellm.mockserver.MockServer;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Starts the project's mock upstream server on a free loopback port for a test class. */
public final class MockServerExtension implements BeforeAllCallback, AfterAllCallback {
    private final java.util.function.Supplier<SslContext> ssl;
    private MockServer server;

    private MockServerExtension(java.util.function.Supplier<SslContext> ssl) {
        this.ssl = ssl;
    }

    public static MockServerExtension plain() {
        return new MockServerExtension(() -> null);
    }

    public static MockServerExtension tls(java.util.function.Supplier<SslContext> ssl) {
        return new MockServerExtension(ssl);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = MockServer.start("127.0.0.1", 0, 0, ssl.get());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
        }
    }

    public MockServer server() {
        return server;
    }

    public String url() {
        return server.url().toString();
    }
}
