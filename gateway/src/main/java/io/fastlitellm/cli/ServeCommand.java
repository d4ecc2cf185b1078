package io.fastlitellm.cli;

import io.fastlitellm.config.ConfigException;
import io.fastlitellm.config.ConfigLoader;
import io.fastlitellm.config.GatewayConfig;
import io.fastlitellm.server.Gateway;
import io.fastlitellm.server.GatewayOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fast-litellm serve}: runs the gateway until SIGTERM or SIGINT, then drains (stops
 * accepting, lets requests in flight finish within {@code --drain-timeout}) and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the OpenAI-compatible gateway.",
                "With no --config it serves a built-in demo config of mock deployments: no keys, no network."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "LiteLLM proxy config.yaml to serve.")
    Path config;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "4000", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--drain-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "On SIGTERM, how long requests in flight may take to finish (default: ${DEFAULT-VALUE}).")
    long drainSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (port < 0 || port > 65535) {
            err.println("fast-litellm serve: --port " + port + " (expected: 0..65535)");
            return 2;
        }
        if (drainSeconds < 0) {
            err.println("fast-litellm serve: --drain-timeout " + drainSeconds + " (expected: >= 0)");
            return 2;
        }
        GatewayConfig cfg;
        try {
            ConfigLoader loader = ConfigLoader.standard();
            cfg = config == null ? loader.loadDemo() : loader.load(config);
        } catch (ConfigException e) {
            err.println("fast-litellm: config error: " + e.getMessage());
            err.flush();
            return 2;
        }
        GatewayOptions options = GatewayOptions.builder()
                .host(host).port(port).drainTimeout(Duration.ofSeconds(drainSeconds))
                .log(line -> {
                    System.err.println(line);
                    System.err.flush();
                })
                .build();
        Gateway gateway;
        try {
            gateway = Gateway.start(cfg, options);
        } catch (Exception e) {
            err.println("fast-litellm: cannot listen on " + host + ":" + port + ": " + e.getMessage());
            err.flush();
            return 1;
        }
        System.out.println(gateway.startupLine());
        System.out.flush();

        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown);
        stop.await();
        System.err.println("fast-litellm: stopping; letting " + gateway.inFlight() + " request(s) in flight finish");
        boolean drained = gateway.shutdown(Duration.ofSeconds(drainSeconds));
        System.err.println(drained ? "fast-litellm: stopped" : "fast-litellm: stopped; drain timeout passed with requests in flight");
        return 0;
    }
}
