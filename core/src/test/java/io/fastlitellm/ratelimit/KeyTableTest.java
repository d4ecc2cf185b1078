package io.fastlitellm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeyTableTest {

    private static final long SECOND = 1_000_000_000L;
    private static final Limits RPM_60 = Limits.key(60, Limits.UNLIMITED, Limits.UNLIMITED);

    private static boolean check(KeyTable table, String key, Limits limits, long tokens, long now) {
        return table.tryAcquire(key, limits, tokens, now, RateLimiter.newPermit());
    }

    @Test
    void sizedForMaxKeysAtAtMostThreeQuartersLoad() {
        assertThat(new KeyTable(1_000_000).capacity()).isEqualTo(1_333_334);
        assertThat(new KeyTable(1000).capacity()).isEqualTo(1334);
        assertThat(new KeyTable(1).capacity()).isEqualTo(16);
    }

    /**
     * A million live keys (none idle: each has just spent one request) cost under 64 bytes a key
     * besides the caller's key strings, measured on the heap after a full collection: the table
     * keeps no object per key.
     */
    @Test
    void aMillionKeysTakeUnder64BytesAKeyAndAreAllExact() {
        int n = 1_000_000;
        String[] names = new String[n];
        for (int i = 0; i < n; i++) names[i] = "sk-" + i;
        long before = heapUsedAfterGc();
        KeyTable table = new KeyTable(n);
        Permit permit = RateLimiter.newPermit();
        long t = 5 * SECOND;
        for (int i = 0; i < n; i++) {
            permit.reset(table, () -> 0, names[i], RPM_60, 0);
            assertThat(table.tryAcquire(names[i], RPM_60, 0, t, permit)).isTrue();
        }
        long bytes = heapUsedAfterGc() - before;
        assertThat(table.size()).isEqualTo(n);
        assertThat((double) bytes / n).as("bytes a key").isLessThan(64);
        // Every key kept its own state: each has 59 of its 60 left, and the table is full.
        for (int i = 0; i < n; i += 9973) {
            permit.reset(table, () -> 0, names[i], RPM_60, 0);
            assertThat(table.tryAcquire(names[i], RPM_60, 0, t, permit)).isTrue();
            assertThat(permit.requestsRemaining()).isEqualTo(58);
        }
        permit.reset(table, () -> 0, "sk-new", RPM_60, 0);
        assertThat(table.tryAcquire("sk-new", RPM_60, 0, t, permit)).isFalse();
        assertThat(names[n - 1]).isNotNull(); // keeps the strings alive until here, out of the measure
    }

    /**
     * The check path of a known key takes no lock: with another thread holding the table's only
     * lock (an insert or a cleanup in progress), checks, refusals and parallel-slot releases of known
     * keys all complete; a new key's insert, which does need it, waits, which shows the probe sees locking.
     * The preemptive timeout only turns a deadlock into a failure; it times nothing.
     */
    @Test
    void knownKeysAreCheckedAndReleasedWhileAnotherThreadHoldsTheLock() throws Exception {
        KeyTable table = new KeyTable(100);
        Limits limits = Limits.key(3, Limits.UNLIMITED, 2);
        long t = 5 * SECOND;
        assertThat(check(table, "sk-known", limits, 0, t)).isTrue();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread holder = new Thread(() -> {
            table.writeLock().lock();
            try {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                table.writeLock().unlock();
            }
        });
        holder.start();
        held.await();
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
            Permit p = RateLimiter.newPermit();
            p.reset(table, () -> t, "sk-known", limits, 0);
            assertThat(table.tryAcquire("sk-known", limits, 0, t, p)).isTrue();
            p.release(); // gives back the parallel slot, lock-free
            Permit q = RateLimiter.newPermit();
            q.reset(table, () -> t, "sk-known", limits, 0);
            assertThat(table.tryAcquire("sk-known", limits, 0, t, q)).isTrue();
            Permit refused = RateLimiter.newPermit();
            refused.reset(table, () -> t, "sk-known", limits, 0);
            assertThat(table.tryAcquire("sk-known", limits, 0, t, refused)).as("rpm 3 spent").isFalse();
            assertThat(table.writeLock().hasQueuedThreads()).isFalse();

            Thread inserter = new Thread(() -> check(table, "sk-new", limits, 0, t));
            inserter.start();
            while (!table.writeLock().hasQueuedThread(inserter)) Thread.onSpinWait();
            done.countDown();
            inserter.join();
        });
        holder.join();
        assertThat(table.size()).isEqualTo(2);
    }

    private static long heapUsedAfterGc() {
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    @Test
    void idleKeysAreEvictedAndComeBackAsNewKeysWithNothingLost() {
        KeyTable table = new KeyTable(100);
        long t = 7 * SECOND;
        for (int i = 0; i < 3; i++) {
            assertThat(check(table, "sk-a", RPM_60, 0, t)).isTrue();
        }
        assertThat(check(table, "sk-b", RPM_60, 0, t)).isTrue();
        assertThat(table.size()).isEqualTo(2);
        // sk-b is idle one second later (its one request refilled), sk-a three seconds later.
        long delay = table.cleanup(t + SECOND);
        assertThat(table.size()).isEqualTo(1);
        assertThat(delay).isEqualTo(2 * SECOND);
        Permit p = RateLimiter.newPermit();
        p.reset(table, () -> t + SECOND, "sk-a", RPM_60, 0);
        assertThat(table.tryAcquire("sk-a", RPM_60, 0, t + SECOND, p)).isTrue();
        assertThat(p.requestsRemaining()).isEqualTo(57); // sk-a's state survived the cleanup
        assertThat(table.cleanup(t + 10 * SECOND)).isEqualTo(60 * SECOND);
        assertThat(table.size()).isZero();
    }

    @Test
    void keysWithRequestsInFlightAreNeverEvicted() {
        KeyTable table = new KeyTable(10);
        Limits parallel = Limits.key(Limits.UNLIMITED, Limits.UNLIMITED, 1);
        assertThat(check(table, "sk-a", parallel, 0, 0)).isTrue();
        table.cleanup(3600 * SECOND);
        assertThat(table.size()).isEqualTo(1);
        assertThat(check(table, "sk-a", parallel, 0, 3600 * SECOND)).isFalse();
        table.releaseParallel("sk-a", parallel);
        table.cleanup(3600 * SECOND);
        assertThat(table.size()).isZero();
        assertThatThrownBy(() -> table.releaseParallel("sk-a", parallel))
                .hasMessageContaining("holds no request in flight");
    }

    @Test
    void aFullTableEvictsIdleKeysForANewOneAndRefusesWhenNoneIsIdle() {
        KeyTable table = new KeyTable(3);
        for (String k : new String[] {"a", "b", "c"}) {
            assertThat(check(table, k, RPM_60, 0, 0)).isTrue();
        }
        Permit p = RateLimiter.newPermit();
        assertThat(table.tryAcquire("d", RPM_60, 0, 0, p)).isFalse();
        assertThat(p.deniedLimitKind()).isEqualTo(Permit.CAPACITY);
        // One second on, all three buckets are full again: they are idle and make room.
        assertThat(table.tryAcquire("d", RPM_60, 0, SECOND, p)).isTrue();
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void churnThroughManyMoreKeysThanTheTableHoldsKeepsEveryKeyExact() {
        KeyTable table = new KeyTable(64);
        Limits two = Limits.key(2, Limits.UNLIMITED, Limits.UNLIMITED);
        long t = 0;
        for (int round = 0; round < 200; round++) {
            t += 60 * SECOND; // everything from the previous round is idle
            for (int k = 0; k < 64; k++) {
                String key = "key-" + round + "-" + k;
                assertThat(check(table, key, two, 0, t)).isTrue();
                assertThat(check(table, key, two, 0, t)).isTrue();
                assertThat(check(table, key, two, 0, t)).as("third request of %s", key).isFalse();
            }
            assertThat(table.size()).isEqualTo(64);
        }
    }

    @Test
    void keysWithEqualHashesOrEqualTextInOtherStringsAreTold() {
        KeyTable table = new KeyTable(10);
        assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
        Limits one = Limits.key(1, Limits.UNLIMITED, Limits.UNLIMITED);
        assertThat(check(table, "Aa", one, 0, 0)).isTrue();
        assertThat(check(table, "BB", one, 0, 0)).isTrue();
        assertThat(check(table, new String("Aa".toCharArray()), one, 0, 0)).isFalse();
        assertThat(check(table, new String("BB".toCharArray()), one, 0, 0)).isFalse();
        assertThat(table.size()).isEqualTo(2);
        assertThatThrownBy(() -> Limits.key(1, 1, 1L << 31))
                .hasMessage("maxParallel: 2147483648 (expected: <= 2147483647, or Limits.UNLIMITED)");
    }

    @Test
    void refundsToAnEvictedKeyChangeNothingAndChargesRecreateIt() {
        KeyTable table = new KeyTable(10);
        Limits tpm = Limits.key(Limits.UNLIMITED, 600, Limits.UNLIMITED); // a token every 100 ms
        table.adjustTokens("sk-a", tpm, -50, 0);
        assertThat(table.size()).isZero();
        table.adjustTokens("sk-a", tpm, 700, 0);
        Permit p = RateLimiter.newPermit();
        assertThat(table.tryAcquire("sk-a", tpm, 1, 0, p)).isFalse();
        assertThat(p.retryAfterMillis()).isEqualTo(10_100); // 100 tokens of debt, then one more
    }
}
