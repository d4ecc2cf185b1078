package io.fastlitellm.redis;

import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Group commit for a per-key script: calls that arrive while one batch is out on Redis wait in a
 * queue and go together, as one script over all their keys, when it comes back. With nothing out,
 * a call goes at once, so an idle gateway pays one round trip as before; under load, N concurrent
 * checks cost one script, one write and one read on each side instead of N, which is what bounds a
 * Redis-backed gateway on a few cores (docs/benchmarks/redis.md).
 *
 * <p>The script must treat {@code KEYS[i]} with {@code ARGV[(i-1)*argsPerKey+1 ..
 * i*argsPerKey]} one after the other, as if each were its own call (a key may come twice), and
 * return {@code resultsPerKey} values per key, flat and in order. Redis runs a script alone, so
 * each call in a batch is as atomic as it was on its own. Because one script touches many keys,
 * batches need a single Redis (or keys of one Cluster slot), which is what the gateway connects to.
 *
 * <p>Concurrency: any thread submits (a lock-free queue); {@code sending} admits one batch out at a
 * time; the thread that completes a batch (Lettuce's I/O thread) hands out its results and sends
 * the next. Each call's future completes exactly once: with its own results, or with the batch's
 * failure.
 */
final class ScriptBatcher {

    /** Keys per script at most, so that one script holds Redis for well under a millisecond. */
    static final int MAX_BATCH = 128;

    private record Call(String key, String[] args, CompletableFuture<List<Object>> result) {
    }

    private final RedisLink link;
    private final RedisLink.Script script;
    private final int argsPerKey;
    private final int resultsPerKey;
    private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();

    ScriptBatcher(RedisLink link, RedisLink.Script script, int argsPerKey, int resultsPerKey) {
        this.link = link;
        this.script = script;
        this.argsPerKey = argsPerKey;
        this.resultsPerKey = resultsPerKey;
    }

    /** Runs the script for {@code key} with its {@code args}, in the next batch; the future holds this key's results. */
    CompletableFuture<List<Object>> submit(String key, String... args) {
        if (args.length != argsPerKey) {
            throw new IllegalArgumentException(script.name() + ": " + args.length + " arguments (expected: " + argsPerKey + ")");
        }
        Call call = new Call(key, args, new CompletableFuture<>());
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
            String[] keys = new String[batch.size()];
            String[] args = new String[batch.size() * argsPerKey];
            for (int i = 0; i < batch.size(); i++) {
                keys[i] = batch.get(i).key;
                System.arraycopy(batch.get(i).args, 0, args, i * argsPerKey, argsPerKey);
            }
            CompletableFuture<List<Object>> sent = link.run(script, ScriptOutputType.MULTI, keys, args);
            sent.whenComplete((results, error) -> {
                sending.set(false);
                // Send what queued meanwhile before handing out results: their callbacks may be slow.
                sendNext();
                for (int i = 0; i < batch.size(); i++) {
                    CompletableFuture<List<Object>> f = batch.get(i).result;
                    if (error != null) {
                        f.completeExceptionally(error);
                    } else if (results == null || results.size() < (i + 1) * resultsPerKey) {
                        f.completeExceptionally(new SharedStateUnavailableException("answered " + script.name()
                                + " with " + (results == null ? 0 : results.size()) + " values for " + batch.size() + " keys"));
                    } else {
                        f.complete(results.subList(i * resultsPerKey, (i + 1) * resultsPerKey));
                    }
                }
            });
            return;
        }
    }
}
