package io.fastlitellm.bench.tokenizer;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Milliseconds to count 1 MiB that the pre-tokenizer cannot split: one repeated letter, spaces,
 * one repeated CJK character. Naive BPE is quadratic here; the goal is linear time, under 50 ms.
 *
 * <p>Run: {@code java -cp bench/target/fast-litellm.jar org.openjdk.jmh.Main LongRunBenchmark
 * -wi 1 -i 2 -f 1 -w 1s -r 1s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LongRunBenchmark {

    @Param({"cl100k_base", "o200k_base"})
    public String encoding;

    @Param({"letter", "spaces", "cjk"})
    public String run;

    @Param({"fast-litellm", "jtokkit"})
    public String impl;

    private String text;
    private TokenCounter counter;

    @Setup
    public void setup() {
        String unit = switch (run) {
            case "letter" -> "a";
            case "spaces" -> " ";
            case "cjk" -> "中";
            default -> throw new IllegalArgumentException("run: " + run);
        };
        text = unit.repeat(1 << 20); // 1 Mi characters (3 MiB of UTF-8 for the CJK run)
        counter = TokenCounter.of(impl, encoding);
    }

    @Benchmark
    public int count() {
        return counter.count(text);
    }
}
