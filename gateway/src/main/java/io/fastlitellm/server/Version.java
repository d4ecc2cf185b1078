package io.fastlitellm.server;

/** The project version, shown by {@code --version} and {@code /health/readiness}. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {
    }
}
