package io.fastlitellm.bench.tokenizer;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Token counting and encoding throughput, ours beside jtokkit in one run, on the same 8192-char
 * documents ({@link Corpora}), single thread. One operation is one document; the bench CLI turns
 * documents per second into MB/s of UTF-8 input.
 *
 * <p>Run: {@code java -jar bench/target/fast-litellm.jar bench tokens} (prints the table), or JMH
 * directly: {@code java -cp bench/target/fast-litellm.jar org.openjdk.jmh.Main TokenizerBenchmark
 * -wi 2 -i 3 -f 1 -w 1s -r 1s -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TokenizerBenchmark {

    static final int DOCS = 16;

    @Param({"cl100k_base", "o200k_base"})
    public String encoding;

    @Param({"prose", "code", "multilingual", "adversarial"})
    public String corpus;

    @Param({"fast-litellm", "jtokkit"})
    public String impl;

    private List<String> docs;
    private TokenCounter counter;

    @Setup
    public void setup() {
        docs = Corpora.slices(corpus, DOCS);
        counter = TokenCounter.of(impl, encoding);
    }

    @Benchmark
    @OperationsPerInvocation(DOCS)
    public int count() {
        int n = 0;
        for (String d : docs) n += counter.count(d);
        return n;
    }

    @Benchmark
    @OperationsPerInvocation(DOCS)
    public int encode() {
        int n = 0;
        for (String d : docs) n += counter.encode(d).length;
        return n;
    }
}
