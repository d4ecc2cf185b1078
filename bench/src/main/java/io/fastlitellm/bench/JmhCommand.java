package io.fastlitellm.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code fast-litellm bench jmh ARGS}: runs JMH from the runnable jar with the launcher's JDK, so a
 * benchmark's documented command works as written, e.g.
 * {@code ./fast-litellm bench jmh UpstreamPoolBenchmark -t 8 -f 1}. Arguments go to JMH unchanged
 * ({@code -h} lists them).
 */
@Command(name = "jmh", description = "Run JMH benchmarks from this jar; arguments go to JMH (e.g. a benchmark name, -f 1 -wi 2 -i 3).")
final class JmhCommand implements Callable<Integer> {

    /** Everything after {@code jmh}, options included, in order: it all belongs to JMH. */
    @Unmatched
    java.util.List<String> args = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(args.toArray(new String[0]));
        return 0;
    }
}
