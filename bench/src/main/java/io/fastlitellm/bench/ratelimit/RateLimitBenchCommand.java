package io.fastlitellm.bench.ratelimit;

import io.fastlitellm.bench.ratelimit.KeyedLimiters.KeyedLimiter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fast-litellm bench ratelimit --keys N --checks M [--threads T]}: ours, Bucket4j and
 * Resilience4j on the same keys in the same run, one line each:
 * {@code impl=<name> keys=N threads=T ns_per_check=X bytes_per_key=Y}.
 *
 * <p>How it measures: first, per implementation, {@code bytes_per_key}: the heap in use after a full
 * GC with every key checked once, minus the heap in use before, over N; the key strings exist
 * before and after, so they are not counted, everything the limiter holds per key is. Then a warm-up
 * of {@code M} checks each (for the JIT), then {@code --rounds} rounds in which every implementation
 * in turn runs {@code M} checks split over T threads, each thread walking its own uniformly random
 * sequence of keys. {@code ns_per_check} is the best round's CPU time of all threads over M (or with
 * {@code --time wall}, its wall time times T over M): what one check costs one thread, so that
 * "2 threads no slower per check than one" reads directly, and CPU time because the machine's two
 * cores are shared with other work that would otherwise be billed to whichever run it preempted.
 */
@Command(name = "ratelimit", mixinStandardHelpOptions = true,
        description = "Keyed rate limiters: fast-litellm beside Bucket4j and Resilience4j, same keys, same run.")
public final class RateLimitBenchCommand implements Callable<Integer> {

    @Option(names = "--keys", description = "Distinct keys (default: ${DEFAULT-VALUE}).")
    int keys = 1000;

    @Option(names = "--checks", description = "Checks measured per implementation (default: ${DEFAULT-VALUE}).")
    long checks = 20_000_000;

    @Option(names = "--threads", description = "Threads sharing the checks (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    @Option(names = "--impl", split = ",", description = "Implementations to run (default: all: ${DEFAULT-VALUE}).")
    List<String> impls = KeyedLimiters.NAMES;

    @Option(names = "--rounds", description = "Measured rounds per implementation, interleaved; the best is"
            + " reported (default: ${DEFAULT-VALUE}).")
    int rounds = 5;

    @Option(names = "--time", description = "What ns_per_check counts: cpu (the threads' CPU time, blind to"
            + " other processes taking the cores) or wall (wall time times threads) (default: ${DEFAULT-VALUE}).")
    String time = "cpu";

    @Option(names = "--clock", description = "Clock given to ours: ticking (1 ms ticker thread, TickingClock)"
            + " or nanotime (System.nanoTime() on every check) (default: ${DEFAULT-VALUE}).")
    String clock = "ticking";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A bad option: picocli prints the message and the usage, and exits with status 2. */
    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        if (keys < 1) {
            throw bad("--keys: " + keys + " (expected: >= 1)");
        }
        if (threads < 1 || threads > 256) {
            throw bad("--threads: " + threads + " (expected: 1..256)");
        }
        if (!time.equals("cpu") && !time.equals("wall")) {
            throw bad("--time: '" + time + "' (expected: cpu or wall)");
        }
        if (rounds < 1) {
            throw bad("--rounds: " + rounds + " (expected: >= 1)");
        }
        if (checks < threads) {
            throw bad("--checks: " + checks + " (expected: >= --threads)");
        }
        for (String impl : impls) {
            try {
                KeyedLimiters.create(impl, 1, clock); // fail on a bad name before any long run
            } catch (IllegalArgumentException e) {
                throw bad("--" + e.getMessage());
            }
        }
        String[] keyStrings = KeyedLimiters.keys(keys);
        int orderLength = (int) Math.min(1 << 22, Math.max(keys, checks / threads));
        int[][] orders = new int[threads][];
        for (int t = 0; t < threads; t++) {
            orders[t] = KeyOrder.uniform(keys, orderLength, 42 + t);
        }
        int n = impls.size();
        KeyedLimiter[] limiters = new KeyedLimiter[n];
        double[] bytesPerKey = new double[n];
        for (int j = 0; j < n; j++) {
            long used0 = heapUsedAfterGc();
            limiters[j] = KeyedLimiters.create(impls.get(j), keys, clock);
            for (String key : keyStrings) {
                limiters[j].check(key);
            }
            long used1 = heapUsedAfterGc();
            bytesPerKey[j] = (double) (used1 - used0) / keys;
        }
        for (int j = 0; j < n; j++) {
            run(limiters[j], keyStrings, orders, checks); // warm-up, for the JIT
        }
        // Rounds interleave the implementations so that each sees the same share of a noisy, shared
        // machine; the best round of each is its figure (interference only ever adds time).
        double[] best = new double[n];
        java.util.Arrays.fill(best, Double.MAX_VALUE);
        for (int round = 0; round < rounds; round++) {
            for (int j = 0; j < n; j++) {
                long[] nanos = run(limiters[j], keyStrings, orders, checks);
                double perCheck = time.equals("cpu") ? (double) nanos[1] / checks : (double) nanos[0] * threads / checks;
                best[j] = Math.min(best[j], perCheck);
            }
        }
        for (int j = 0; j < n; j++) {
            System.out.printf("impl=%s keys=%d threads=%d ns_per_check=%.1f bytes_per_key=%.1f%n",
                    impls.get(j), keys, threads, best[j], bytesPerKey[j]);
        }
        System.out.flush();
        Reference.reachabilityFence(limiters);
        Reference.reachabilityFence(keyStrings);
        return 0;
    }

    /** Wall nanoseconds and the threads' summed CPU nanoseconds for {@code checks} checks over all threads. */
    private static long[] run(KeyedLimiter limiter, String[] keyStrings, int[][] orders, long checks) throws Exception {
        int n = orders.length;
        CyclicBarrier barrier = new CyclicBarrier(n + 1);
        AtomicLong denied = new AtomicLong();
        AtomicLong cpu = new AtomicLong();
        ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            int[] order = orders[t];
            long count = checks / n + (t < checks % n ? 1 : 0);
            Thread worker = new Thread(() -> {
                try {
                    // Made by the thread itself: two handles made in a row by one thread would share
                    // a cache line, and each check writes its handle.
                    KeyedLimiter handle = limiter.forThread();
                    barrier.await();
                    long cpu0 = threadBean.getCurrentThreadCpuTime();
                    long refused = 0;
                    int i = 0;
                    for (long c = 0; c < count; c++) {
                        if (!handle.check(keyStrings[order[i]])) {
                            refused++;
                        }
                        if (++i == order.length) {
                            i = 0;
                        }
                    }
                    cpu.addAndGet(threadBean.getCurrentThreadCpuTime() - cpu0);
                    denied.addAndGet(refused);
                    barrier.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "bench-ratelimit-" + t);
            workers.add(worker);
            worker.start();
        }
        barrier.await();
        long start = System.nanoTime();
        barrier.await();
        long nanos = System.nanoTime() - start;
        for (Thread worker : workers) {
            worker.join();
        }
        if (denied.get() != 0) {
            throw new IllegalStateException(denied.get() + " checks were refused: the limit must admit every check");
        }
        return new long[] {nanos, cpu.get()};
    }

    private static long heapUsedAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
