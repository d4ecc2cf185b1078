package io.fastlitellm.bench.tokenizer;

import io.fastlitellm.tokenizer.Encodings;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fast-litellm bench tokens}: the tokenizer benchmarks, ours beside jtokkit in one run:
 * throughput per corpus (MB/s of UTF-8 and the ratio), bytes allocated per document
 * ({@code -prof gc}), 1 MiB unsplittable runs, and load time and heap per encoding.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = "Tokenizer: fast-litellm beside jtokkit (MB/s, allocation, 1 MiB runs, load time, heap).")
public final class TokensBenchCommand implements Callable<Integer> {

    @Option(names = "--encodings", split = ",", defaultValue = "cl100k_base,o200k_base", description = "Encodings to measure.")
    List<String> encodings;

    @Option(names = "--warmup", defaultValue = "2", description = "Warmup iterations of 1 s.")
    int warmup;

    @Option(names = "--iterations", defaultValue = "5", description = "Measured iterations of 1 s.")
    int iterations;

    @Option(names = "--no-long-runs", description = "Skip the 1 MiB run benchmark.")
    boolean noLongRuns;

    @Override
    public Integer call() throws Exception {
        System.out.println("# Load time and heap per encoding (first = the first load in this JVM, cold;"
                + " warm = median of 7 later loads; heap = used heap after GC with one loaded copy, median of 3)");
        System.out.println("| encoding | impl | first load ms | warm load ms | heap MB |");
        System.out.println("| --- | --- | --- | --- | --- |");
        Map<String, Double> first = new TreeMap<>();
        for (String enc : encodings) {
            for (String impl : List.of("fast-litellm", "jtokkit")) {
                long t0 = System.nanoTime();
                load(impl, enc);
                first.put(enc + "|" + impl, (System.nanoTime() - t0) / 1e6);
            }
        }
        for (String enc : encodings) {
            for (String impl : List.of("fast-litellm", "jtokkit")) {
                double ms = medianLoadMillis(impl, enc);
                double mb = retainedMegabytes(impl, enc);
                System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.0f | %.1f |%n", enc, impl, first.get(enc + "|" + impl), ms, mb);
            }
        }

        Collection<RunResult> results = new Runner(options(TokenizerBenchmark.class)
                .param("encoding", encodings.toArray(String[]::new))
                .addProfiler(GCProfiler.class)
                .build()).run();
        System.out.println();
        System.out.println("# Throughput, single thread, 8192-char documents (MB/s of UTF-8, best iteration;"
                + " ratio = fast-litellm / jtokkit; B/doc = bytes allocated per document, -prof gc)");
        System.out.println("| op | encoding | corpus | fast-litellm MB/s | jtokkit MB/s | ratio | fast-litellm B/doc | jtokkit B/doc |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- |");
        Map<String, double[]> rows = new TreeMap<>();
        for (RunResult r : results) {
            BenchmarkParams p = r.getParams();
            String op = p.getBenchmark().substring(p.getBenchmark().lastIndexOf('.') + 1);
            String corpus = p.getParam("corpus");
            String key = op + "|" + p.getParam("encoding") + "|" + (Corpora.KINDS.indexOf(corpus)) + corpus;
            double bytesPerDoc = (double) Corpora.utf8Bytes(Corpora.slices(corpus, TokenizerBenchmark.DOCS)) / TokenizerBenchmark.DOCS;
            // The best iteration, not the mean: on a shared 2-core machine other processes only
            // ever slow an iteration down, so the fastest one is the least disturbed estimate.
            double mbs = r.getPrimaryResult().getStatistics().getMax() * bytesPerDoc / 1e6;
            Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            double bytes = alloc == null ? Double.NaN : alloc.getScore();
            double[] row = rows.computeIfAbsent(key, k -> new double[4]);
            int at = p.getParam("impl").equals("fast-litellm") ? 0 : 1;
            row[at] = mbs;
            row[2 + at] = bytes;
        }
        for (Map.Entry<String, double[]> e : rows.entrySet()) {
            String[] k = e.getKey().split("\\|");
            double[] v = e.getValue();
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f | %.1fx | %.0f | %.0f |%n",
                    k[0], k[1], k[2].substring(1), v[0], v[1], v[0] / v[1], v[2], v[3]);
        }

        if (!noLongRuns) {
            // One jtokkit count of these inputs takes seconds, so fewer iterations here.
            Collection<RunResult> runs = new Runner(options(LongRunBenchmark.class)
                    .param("encoding", encodings.toArray(String[]::new))
                    .warmupIterations(1)
                    .measurementIterations(2)
                    .build()).run();
            System.out.println();
            System.out.println("# 1 Mi characters the pre-tokenizer cannot split: ms per count, best iteration (lower is better)");
            System.out.println("| encoding | run | fast-litellm ms | jtokkit ms | speedup |");
            System.out.println("| --- | --- | --- | --- | --- |");
            Map<String, double[]> lr = new TreeMap<>();
            for (RunResult r : runs) {
                BenchmarkParams p = r.getParams();
                double[] row = lr.computeIfAbsent(p.getParam("encoding") + "|" + p.getParam("run"), k -> new double[2]);
                row[p.getParam("impl").equals("fast-litellm") ? 0 : 1] = r.getPrimaryResult().getStatistics().getMin();
            }
            for (Map.Entry<String, double[]> e : lr.entrySet()) {
                String[] k = e.getKey().split("\\|");
                double[] v = e.getValue();
                System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1fx |%n", k[0], k[1], v[0], v[1], v[1] / v[0]);
            }
        }
        return 0;
    }

    private ChainedOptionsBuilder options(Class<?> benchmark) {
        return new OptionsBuilder()
                .include(benchmark.getName() + "\\.")
                .warmupIterations(warmup)
                .measurementIterations(iterations)
                .warmupTime(TimeValue.seconds(1))
                .measurementTime(TimeValue.seconds(1))
                .forks(1)
                .shouldFailOnError(true);
    }

    private static Object load(String impl, String encoding) throws Exception {
        if (impl.equals("jtokkit")) {
            return com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry()
                    .getEncoding(com.knuddels.jtokkit.api.EncodingType.fromName(encoding).orElseThrow());
        }
        String pattern = encoding.equals("o200k_base") ? Encodings.O200K_PATTERN
                : encoding.equals("cl100k_base") ? Encodings.CL100K_PATTERN : Encodings.R50K_PATTERN;
        String resource = "com/knuddels/jtokkit/" + (encoding.equals("p50k_edit") ? "p50k_base" : encoding) + ".tiktoken";
        // Spelled out rather than read from Encodings.get, which would load (and time) the cached copy.
        Map<String, Integer> special = switch (encoding) {
            case "o200k_base" -> Map.of("<|endoftext|>", 199999, "<|endofprompt|>", 200018);
            case "cl100k_base" -> Map.of("<|endoftext|>", 100257, "<|fim_prefix|>", 100258, "<|fim_middle|>", 100259,
                    "<|fim_suffix|>", 100260, "<|endofprompt|>", 100276);
            default -> Map.of("<|endoftext|>", 50256);
        };
        try (InputStream in = TokensBenchCommand.class.getClassLoader().getResourceAsStream(resource)) {
            // The same path Encodings.get takes on first use, minus its cache.
            return Encodings.load(encoding, in, resource, pattern, special);
        }
    }

    private static double medianLoadMillis(String impl, String encoding) throws Exception {
        double[] ms = new double[7];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            Object e = load(impl, encoding);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (e == null) throw new IllegalStateException();
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    /** Heap kept alive by one loaded encoding: used heap after GC with it, minus without it. */
    private static double retainedMegabytes(String impl, String encoding) throws Exception {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            gc();
            long before = mem.getHeapMemoryUsage().getUsed();
            Object kept = load(impl, encoding);
            if (impl.equals("fast-litellm")) ((io.fastlitellm.tokenizer.Encoding) kept).countTokens("warm up the lazy parts");
            else ((com.knuddels.jtokkit.api.Encoding) kept).countTokensOrdinary("warm up the lazy parts");
            gc();
            long after = mem.getHeapMemoryUsage().getUsed();
            samples.add((after - before) / 1e6);
            if (kept.hashCode() == 42) System.out.print(""); // keeps `kept` reachable until here
        }
        samples.sort(null);
        return samples.get(1);
    }

    private static void gc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }
}
