package io.fastlitellm.redis;

import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Group commit for a per-key script: calls that arrive while batches are out on Redis wait in a
 * queue and go together, as one script over all their keys, when one comes back. With a batch
 * slot free, a call goes at once, so an idle gateway pays one round trip as before; under load, N concurrent
 * checks cost one script, one write and one read on each side instead of N, which is what bounds a
 * Redis-backed gateway on a few cores (docs/benchmarks/redis.md).
 *
 * <p>The script must read the calls' keys and arguments one call after the other from KEYS and
 * ARGV (each call says, in its arguments, how many it has), treat each as if it were alone (a key
 * may come twice), and return each call's values, flat and in order. Redis runs a script alone, so
 * each call in a batch is as atomic as it was on its own. Because one script touches many keys,
 * batches need a single Redis (or keys of one Cluster slot), which is what the gateway connects to.
 *
 * <p>Concurrency: any thread submits (a lock-free queue); {@code inFlight} admits
 * {@link #MAX_IN_FLIGHT} batches out at a time; a batch is formed and handed to the connection under
 * {@code sendLock}, so batches keep the queue's order on the one connection; the thread that
 * completes a batch (Lettuce's I/O thread) sends the next and hands out its results. Each call's future completes exactly once: with its own results, or with the batch's
 * failure.
 */
final class ScriptBatcher {

    /** Keys per script at most, so that one script holds Redis for well under a millisecond. */
    static final int MAX_BATCH = 128;

    /**
     * Batches out at once. One would make a call wait a whole round trip for the batch ahead of it;
     * a few keep the connection busy (Redis runs them back to back) while still batching under load.
     */
    static final int MAX_IN_FLIGHT = 2;

    private record Call(String[] keys, String[] args, int results, CompletableFuture<List<Object>> result) {
    }

    private final RedisLink link;
    private final RedisLink.Script script;
    private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
    /** Batches out on Redis now, at most {@link #MAX_IN_FLIGHT}. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object sendLock = new Object();

    ScriptBatcher(RedisLink link, RedisLink.Script script) {
        this.link = link;
        this.script = script;
    }

    /**
     * Runs one call of the script, on {@code keys} with {@code args}, in the next batch; the future
     * holds the call's {@code results} values.
     */
    CompletableFuture<List<Object>> submit(String[] keys, String[] args, int results) {
        Call call = new Call(keys, args, results, new CompletableFuture<>());
        queue.add(call);
        sendNext();
        return call.result;
    }

    private void sendNext() {
        // Whoever finds the queue non-empty and a batch slot free sends; a submit racing with the
        // end of a batch is seen by one of the two re-checks.
        while (!queue.isEmpty() && reserve()) {
            List<Call> batch;
            CompletableFuture<List<Object>> sent;
            // Forming a batch and handing it to the connection happen under one lock, so batches
            // reach Redis in the order their calls were queued.
            synchronized (sendLock) {
                batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
                Call c;
                while (batch.size() < MAX_BATCH && (c = queue.poll()) != null) {
                    batch.add(c);
                }
                if (batch.isEmpty()) {
                    inFlight.decrementAndGet();
                    continue;
                }
                List<String> keys = new ArrayList<>(batch.size() * 2);
                List<String> args = new ArrayList<>(batch.size() * 8);
                for (Call call : batch) {
                    keys.addAll(List.of(call.keys));
                    args.addAll(List.of(call.args));
                }
                sent = link.run(script, ScriptOutputType.MULTI, keys.toArray(new String[0]), args.toArray(new String[0]));
            }
            List<Call> done = batch;
            sent.whenComplete((results, error) -> {
                inFlight.decrementAndGet();
                // Send what queued meanwhile before handing out results: their callbacks may be slow.
                sendNext();
                int at = 0;
                for (Call call : done) {
                    if (error != null) {
                        call.result.completeExceptionally(error);
                    } else if (results == null || results.size() < at + call.results) {
                        call.result.completeExceptionally(new SharedStateUnavailableException("answered " + script.name()
                                + " with " + (results == null ? 0 : results.size()) + " values for " + done.size() + " calls"));
                    } else {
                        call.result.complete(results.subList(at, at + call.results));
                    }
                    at += call.results;
                }
            });
        }
    }

    /** Takes one of the {@link #MAX_IN_FLIGHT} batch slots, if one is free. */
    private boolean reserve() {
        int n;
        do {
            n = inFlight.get();
            if (n >= MAX_IN_FLIGHT) {
                return false;
            }
        } while (!inFlight.compareAndSet(n, n + 1));
        return true;
    }
}
