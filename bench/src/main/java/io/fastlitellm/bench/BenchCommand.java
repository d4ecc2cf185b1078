package io.fastlitellm.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fast-litellm bench}: benchmarks that run ours and the peers side by side in one run and
 * print one line per implementation. Each component adds its subcommand to the list below.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: ours beside the JVM peers, in one run, one line per implementation.",
        subcommands = {CommandLine.HelpCommand.class, JmhCommand.class, io.fastlitellm.bench.suite.BenchSuiteCommand.Quick.class,
                io.fastlitellm.bench.suite.BenchSuiteCommand.Full.class, io.fastlitellm.bench.ratelimit.RateLimitBenchCommand.class,
                io.fastlitellm.bench.router.RouterBenchCommand.class, io.fastlitellm.bench.tokenizer.TokensBenchCommand.class,
                io.fastlitellm.bench.redis.RedisBenchCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
