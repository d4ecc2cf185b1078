package io.fastlitellm.redis;

import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Group commit for a per-key script: calls that arrive while a batch is out on Redis wait in a
 * queue and go together, as one script over all their keys, when it comes back. With nothing out, a
 * call goes at once, so an idle gateway pays one round trip as before; under load, N concurrent
 * checks cost one script, one write and one read on each side instead of N
 * (docs/benchmarks/redis.md).
 *
 * <p>The script must read the calls' keys and arguments one call after the other from KEYS and
 * ARGV (each call says, in its arguments, how many it has), treat each as if it were alone (a key
 * may come twice), and return each call's values, flat and in order. Redis runs a script alone, so
 * each call in a batch is as atomic as it was on its own. Because one script touches many keys,
 * batches need a single Redis (or keys of one Cluster slot), which is what the gateway connects to.
 *
 * <p>Order: calls reach Redis in the order they were submitted, because one batch at most is out.
 * Two out at once reordered them: a batch sent from a caller's thread is queued as a task on
 * Lettuce's event loop, while the next one, sent from that loop when a batch completes, is written
 * at once and can overtake it (a refund then landed after the next check of its key,
 * {@code LimitStoreContract#cancelUndoesTheRequestTheTokensAndTheSlot}).
 *
 * <p>Concurrency: any thread submits (a lock-free queue); whoever sets {@code sending} forms and
 * sends the one batch out; the thread that completes it (Lettuce's I/O thread) sends the next and
 * hands out its results. Each call's future completes exactly once: with its own results, or with
 * the batch's failure.
 */
final class ScriptBatcher {

    /** Keys per script at most, so that one script holds Redis for well under a millisecond. */
    static final int MAX_BATCH = 128;

    private record Call(String[] keys, String[] args, int results, CompletableFuture<List<Object>> result) {
    }

    private final RedisLink link;
    private final RedisLink.Script script;
    private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
    /** Whether a batch is out on Redis now. */
    private final AtomicBoolean sending = new AtomicBoolean();

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
        // Whoever finds the queue non-empty and nothing out sends; a submit racing with the end of
        // a batch is seen by one of the two re-checks.
        while (!queue.isEmpty() && sending.compareAndSet(false, true)) {
            List<Call> batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
            Call c;
            while (batch.size() < MAX_BATCH && (c = queue.poll()) != null) {
                batch.add(c);
            }
            if (batch.isEmpty()) {
                sending.set(false);
                continue;
            }
            List<String> keys = new ArrayList<>(batch.size() * 2);
            List<String> args = new ArrayList<>(batch.size() * 8);
            for (Call call : batch) {
                Collections.addAll(keys, call.keys);
                Collections.addAll(args, call.args);
            }
            link.<List<Object>>run(script, ScriptOutputType.MULTI, keys.toArray(new String[0]), args.toArray(new String[0]))
                    .whenComplete((results, error) -> {
                        sending.set(false);
                        // Send what queued meanwhile before handing out results: their callbacks may be slow.
                        sendNext();
                        hand(batch, results, error);
                    });
            return;
        }
    }

    /** Completes each call of {@code batch} with its slice of {@code results}, or with {@code error}. */
    private void hand(List<Call> batch, List<Object> results, Throwable error) {
        int at = 0;
        for (Call call : batch) {
            if (error != null) {
                call.result.completeExceptionally(error);
            } else if (results == null || results.size() < at + call.results) {
                call.result.completeExceptionally(new SharedStateUnavailableException("answered " + script.name()
                        + " with " + (results == null ? 0 : results.size()) + " values for " + batch.size() + " calls"));
            } else {
                call.result.complete(results.subList(at, at + call.results));
            }
            at += call.results;
        }
    }
}
