package io.fastlitellm.tokenizer.internal;

import java.util.Arrays;

/**
 * The long-piece merge's priority queue: one list of start offsets per rank, and a binary heap of
 * the ranks whose lists are non-empty. Owned by one thread's workspace; reused across pieces
 * without clearing, because a finished merge leaves every list drained.
 */
final class Buckets {

    private int[] head = new int[0];
    private int[] tail = new int[0];
    private boolean[] unsorted = new boolean[0];
    private boolean[] inHeap = new boolean[0];

    private int[] entryPos = new int[0];
    private int[] entryNext = new int[0];
    private int entries;

    private int[] heap = new int[64];
    private int heapSize;

    private int[] scratch = new int[0];
    /** Entries visited by sorts since the last {@link #takeWork}: the merge's linear-time evidence. */
    private long work;

    void ensure(int maxEntries, int rankLimit) {
        if (head.length < rankLimit) {
            head = new int[rankLimit];
            tail = new int[rankLimit];
            Arrays.fill(head, -1);
            Arrays.fill(tail, -1);
            unsorted = new boolean[rankLimit];
            inHeap = new boolean[rankLimit];
        }
        if (entryPos.length < maxEntries) {
            entryPos = new int[Math.max(maxEntries, 2 * entryPos.length)];
            entryNext = new int[entryPos.length];
        }
    }

    void reset() {
        entries = 0;
        heapSize = 0;
    }

    /** Adds a pair while rank {@code current} is being consumed. */
    void add(int rank, int pos, int current) {
        if (rank == current) prepend(rank, pos); else append(rank, pos);
    }

    void append(int rank, int pos) {
        int e = entries++;
        entryPos[e] = pos;
        entryNext[e] = -1;
        int t = tail[rank];
        if (t < 0) {
            head[rank] = e;
            if (!inHeap[rank]) pushRank(rank);
        } else {
            entryNext[t] = e;
            if (entryPos[t] > pos) unsorted[rank] = true;
        }
        tail[rank] = e;
    }

    private void prepend(int rank, int pos) {
        int e = entries++;
        entryPos[e] = pos;
        entryNext[e] = head[rank];
        if (head[rank] < 0) tail[rank] = e;
        head[rank] = e;
        if (!inHeap[rank]) pushRank(rank);
    }

    /** The lowest rank that may have pairs, or -1 when all lists are drained. */
    int lowestRank() {
        while (heapSize > 0) {
            int r = heap[0];
            if (head[r] >= 0) return r;
            popRank();
            inHeap[r] = false;
            unsorted[r] = false;
            tail[r] = -1;
        }
        return -1;
    }

    /** Removes and returns the smallest start offset in rank's list. */
    int popFront(int rank) {
        if (unsorted[rank]) sort(rank);
        int e = head[rank];
        head[rank] = entryNext[e];
        if (head[rank] < 0) tail[rank] = -1;
        return entryPos[e];
    }

    private void sort(int rank) {
        int n = 0;
        for (int e = head[rank]; e >= 0; e = entryNext[e]) n++;
        work += n;
        if (scratch.length < n) scratch = new int[Math.max(n, 2 * scratch.length)];
        int i = 0;
        for (int e = head[rank]; e >= 0; e = entryNext[e]) scratch[i++] = entryPos[e];
        Arrays.sort(scratch, 0, n);
        i = 0;
        for (int e = head[rank]; e >= 0; e = entryNext[e]) entryPos[e] = scratch[i++];
        unsorted[rank] = false;
    }

    long takeWork() {
        long w = work;
        work = 0;
        return w;
    }

    private void pushRank(int rank) {
        inHeap[rank] = true;
        if (heapSize == heap.length) heap = Arrays.copyOf(heap, heapSize * 2);
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= rank) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = rank;
    }

    private void popRank() {
        int v = heap[--heapSize];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= heapSize) break;
            if (c + 1 < heapSize && heap[c + 1] < heap[c]) c++;
            if (v <= heap[c]) break;
            heap[i] = heap[c];
            i = c;
        }
        if (heapSize > 0) heap[i] = v;
    }
}
