package io.fastlitellm.redis;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
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
 * <p>Wire format (one {@code EVALSHA}, {@link RedisLink#runBinary}): KEYS are the calls' keys one
 * call after the other; ARGV[1] is one binary string, per call an operation byte and its numbers as
 * little-endian doubles (Lua's own number type, exact for integers below 2^53); the answer is one
 * binary string of each call's result numbers, doubles again, flat and in order. The script must
 * read the calls one after the other (the operation byte says how many keys and numbers follow),
 * treat each as if it were alone (a key may come twice), and answer each call's count of numbers. Redis runs a script alone, so
 * each call in a batch is as atomic as it was on its own. Because one script touches many keys, on a
 * Redis Cluster they must all be in one slot: the callers' keys share one hash tag
 * ({@code RedisLimitStore.LIMITS_TAG}), and a batch goes to that slot's primary.
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

    private record Call(byte[][] keys, int op, long[] values, int results, CompletableFuture<long[]> result) {
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
     * Runs one call of the script, operation {@code op} on {@code keys} with {@code values}, in the
     * next batch; the future holds the call's {@code results} numbers.
     */
    CompletableFuture<long[]> submit(byte[][] keys, int op, long[] values, int results) {
        Call call = new Call(keys, op, values, results, new CompletableFuture<>());
        queue.add(call);
        sendNext();
        return call.result;
    }

    private void sendNext() {
        // Whoever finds the queue non-empty and nothing out sends; a submit racing with the end of
        // a batch is seen by one of the two re-checks.
        while (!queue.isEmpty() && sending.compareAndSet(false, true)) {
            List<Call> batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
            int keyCount = 0;
            int bytes = 0;
            Call c;
            while (keyCount < MAX_BATCH && (c = queue.poll()) != null) {
                batch.add(c);
                keyCount += c.keys.length;
                bytes += 1 + 8 * c.values.length;
            }
            if (batch.isEmpty()) {
                sending.set(false);
                continue;
            }
            byte[][] keys = new byte[keyCount][];
            ByteBuffer arg = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int k = 0;
            for (Call call : batch) {
                for (byte[] key : call.keys) {
                    keys[k++] = key;
                }
                arg.put((byte) call.op);
                for (long v : call.values) {
                    arg.putDouble(v);
                }
            }
            link.runBinary(script, keys, arg.array())
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
    private void hand(List<Call> batch, byte[] results, Throwable error) {
        int needed = 0;
        for (Call call : batch) {
            needed += call.results;
        }
        if (error == null && (results == null || results.length != needed * 8)) {
            error = new SharedStateUnavailableException("answered " + script.name() + " with "
                    + (results == null ? 0 : results.length) + " bytes for " + batch.size() + " calls ("
                    + needed * 8 + " expected)");
        }
        ByteBuffer in = error == null ? ByteBuffer.wrap(results).order(ByteOrder.LITTLE_ENDIAN) : null;
        for (Call call : batch) {
            if (error != null) {
                call.result.completeExceptionally(error);
                continue;
            }
            long[] r = new long[call.results];
            for (int i = 0; i < r.length; i++) {
                r[i] = (long) in.getDouble();
            }
            call.result.complete(r);
        }
    }
}
