package io.fastlitellm.tokenizer.internal;

import java.lang.ref.SoftReference;
import java.util.Arrays;

/**
 * Turns text into token ranks: pre-tokenize, UTF-8 encode each piece, then byte-pair merge it
 * exactly as tiktoken does (repeatedly merge the adjacent pair whose concatenation has the lowest
 * rank, the leftmost one on ties).
 *
 * <p>Thread safety: immutable after construction; per-call scratch space lives in a
 * {@link ThreadLocal} {@link Workspace}, so a call allocates nothing but its result array, and
 * counting allocates nothing at all once the workspace has grown to the text's largest piece.
 *
 * <p>Linear time: short pieces use tiktoken's simple quadratic loop, which is fastest for the few
 * bytes of a normal word; pieces longer than {@link #SHORT_PIECE} bytes (a run the pre-tokenizer
 * cannot split, like a megabyte of one letter) use a linked list and rank buckets ({@link Buckets}),
 * which pop the same pair tiktoken would pick at a near-constant cost per merge.
 */
public final class BpeEngine {

    /** Longest piece merged with the simple loop; longer ones use the bucket merge. */
    static final int SHORT_PIECE = 96;
    private static final int NONE = Integer.MAX_VALUE;

    /**
     * Per engine, so a workspace's pair cache only ever holds this vocabulary's merges. Softly
     * held: a thread that once merged a megabyte-long piece keeps its grown arrays for the next
     * one (no per-call allocation), yet the collector may take them back when memory runs short.
     */
    private final ThreadLocal<SoftReference<Workspace>> workspace = new ThreadLocal<>();

    private final Vocabulary vocab;
    private final PreTokenizer pre;
    private final RegexPreTokenizer regex;
    private final int[] byteRank = new int[256];
    private final int shortPiece;

    public BpeEngine(Vocabulary vocab, PreTokenizer pre, RegexPreTokenizer regex) {
        this(vocab, pre, regex, SHORT_PIECE);
    }

    /** {@code shortPiece} moves the switch between the two merge loops, for tests. */
    BpeEngine(Vocabulary vocab, PreTokenizer pre, RegexPreTokenizer regex, int shortPiece) {
        this.shortPiece = shortPiece;
        if ((pre == null) == (regex == null)) throw new IllegalArgumentException("exactly one pre-tokenizer expected");
        this.vocab = vocab;
        this.pre = pre;
        this.regex = regex;
        byte[] one = new byte[1 + Vocabulary.PAD];
        for (int b = 0; b < 256; b++) {
            one[0] = (byte) b;
            byteRank[b] = vocab.rank(one, 0, 1);
        }
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /** Appends the ranks of {@code s[from, to)} to {@code out}. */
    public void encode(String s, int from, int to, IntList out) {
        Workspace ws = workspace();
        if (pre != null) {
            for (int i = from; i < to; ) {
                int e = pre.next(s, i, to);
                piece(s, i, e, ws, out);
                i = e;
            }
        } else {
            regex.split(s, from, to, (a, b) -> piece(s, a, b, ws, out));
        }
    }

    /** Number of tokens in {@code s[from, to)}, without building them. */
    public int count(String s, int from, int to) {
        Workspace ws = workspace();
        if (pre != null) {
            int n = 0;
            for (int i = from; i < to; ) {
                int e = pre.next(s, i, to);
                n += piece(s, i, e, ws, null);
                i = e;
            }
            return n;
        }
        int[] n = new int[1];
        regex.split(s, from, to, (a, b) -> n[0] += piece(s, a, b, ws, null));
        return n[0];
    }

    /** The calling thread's {@link Workspace#work} counter, for tests. */
    long work() {
        return workspace().work;
    }

    private Workspace workspace() {
        SoftReference<Workspace> ref = workspace.get();
        Workspace ws = ref == null ? null : ref.get();
        if (ws == null) {
            ws = new Workspace();
            workspace.set(new SoftReference<>(ws));
        }
        return ws;
    }

    /** Encodes one piece; appends to {@code out} unless it is null; returns the token count. */
    private int piece(String s, int from, int to, Workspace ws, IntList out) {
        int n = utf8(s, from, to, ws);
        ws.work += n;
        byte[] buf = ws.buf;
        if (n == 1) {
            emit(out, byteRank(buf[0]));
            return 1;
        }
        int whole = vocab.rank(buf, 0, n);
        if (whole >= 0) {
            if (out != null) out.add(whole);
            return 1;
        }
        ws.ensureParts(n);
        // Split where no token can span two adjacent bytes (see Vocabulary#joinable): the merges on
        // either side never interact, so each segment is merged alone, in order, with the same result.
        int tokens = 0;
        int start = 0;
        for (int k = 1; k <= n; k++) {
            if (k == n || !vocab.joinable(buf, k)) {
                int len = k - start;
                if (len == 1) {
                    emit(out, byteRank(buf[start]));
                    tokens++;
                } else {
                    tokens += len <= shortPiece ? mergeShort(ws, start, len, out) : mergeLong(ws, start, len, out);
                }
                start = k;
            }
        }
        return tokens;
    }

    private void emit(IntList out, int rank) {
        if (out != null) out.add(rank);
    }

    private int byteRank(byte b) {
        int r = byteRank[b & 0xFF];
        if (r < 0) {
            throw new IllegalArgumentException(String.format(
                    "byte 0x%02X has no token in this vocabulary (expected: every single byte to be a token)", b & 0xFF));
        }
        return r;
    }

    private int pairRank(byte[] buf, int from, int len) {
        int r = vocab.rank(buf, from, len);
        return r < 0 ? NONE : r;
    }

    /**
     * Rank of the token two adjacent parts would merge into. The parts are tokens, so their two
     * ranks name the merged bytes exactly; a small per-thread cache keyed by them answers the
     * repeats (runs, common words) from L1 instead of probing the vocabulary's large tables.
     */
    private int mergedRank(Workspace ws, int from, int len, int left, int right) {
        long key = (long) left << 32 | right;
        int slot = (int) ((key * 0x9E3779B97F4A7C15L) >>> (64 - Workspace.CACHE_BITS));
        if (ws.cacheKeys[slot] == key) return ws.cacheRanks[slot];
        int r = pairRank(ws.buf, from, len);
        ws.cacheKeys[slot] = key;
        ws.cacheRanks[slot] = r;
        return r;
    }

    /** tiktoken's loop: scan for the lowest pair, merge it, update its two neighbours. */
    private int mergeShort(Workspace ws, int from, int n, IntList out) {
        byte[] buf = ws.buf;
        int[] pos = ws.pos;
        int[] pr = ws.pairRank;
        int[] tr = ws.tokenRank;
        for (int k = 0; k < n; k++) {
            pos[k] = from + k;
            tr[k] = byteRank(buf[from + k]);
        }
        pos[n] = from + n;
        for (int k = 0; k < n - 1; k++) {
            int r = vocab.pairRank(buf, from + k);
            pr[k] = r < 0 ? NONE : r;
        }
        int m = n; // parts
        while (m > 1) {
            ws.work += m;
            int best = NONE;
            int bi = -1;
            for (int k = 0; k < m - 1; k++) {
                if (pr[k] < best) {
                    best = pr[k];
                    bi = k;
                }
            }
            if (bi < 0) break;
            tr[bi] = best;
            System.arraycopy(pos, bi + 2, pos, bi + 1, m - bi - 1);
            System.arraycopy(tr, bi + 2, tr, bi + 1, m - bi - 2);
            if (m - bi - 3 > 0) System.arraycopy(pr, bi + 2, pr, bi + 1, m - bi - 3);
            m--;
            if (bi < m - 1) pr[bi] = mergedRank(ws, pos[bi], pos[bi + 2] - pos[bi], tr[bi], tr[bi + 1]);
            if (bi > 0) pr[bi - 1] = mergedRank(ws, pos[bi - 1], pos[bi + 1] - pos[bi - 1], tr[bi - 1], tr[bi]);
        }
        if (out != null) out.addAll(tr, m);
        return m;
    }

    /**
     * The same merges in near-linear time, for pieces too long for the quadratic loop. Parts form
     * a linked list by start offset. Candidate pairs wait in buckets by rank, each bucket a list in
     * ascending start offset, and a small heap holds the ranks whose buckets are non-empty, so the
     * next pair is the front of the lowest bucket: the lowest rank, leftmost on ties, which is
     * exactly the pair tiktoken's loop would pick.
     *
     * <p>Why the buckets stay sorted cheaply: pairs are consumed left to right within a rank, so
     * the new pairs a merge creates mostly arrive in ascending order; a new pair with the current
     * rank starts at or before the merge point, so it belongs at the front. A bucket that does get
     * an out-of-order entry is sorted once when it next becomes the lowest. Entries are validated
     * when popped: a pair is current while {@code pairRank[start]} still equals the bucket's rank.
     */
    private int mergeLong(Workspace ws, int from, int n, IntList out) {
        ws.ensureLong(n, vocab.rankLimit());
        byte[] buf = ws.buf;
        int[] next = ws.pos;
        int[] prev = ws.prev;
        int[] pr = ws.pairRank;
        int[] tr = ws.tokenRank;
        Buckets q = ws.buckets;
        q.reset();
        for (int k = 0; k < n; k++) {
            next[k] = k + 1;
            prev[k] = k - 1;
            tr[k] = byteRank(buf[from + k]);
        }
        next[n] = n;
        for (int k = 0; k < n - 1; k++) {
            int r = vocab.pairRank(buf, from + k);
            if (r < 0) r = NONE;
            pr[k] = r;
            if (r != NONE) q.append(r, k);
        }
        pr[n - 1] = NONE;
        int parts = n;
        int r;
        while ((r = q.lowestRank()) >= 0) {
            ws.work++;
            int k = q.popFront(r);
            if (pr[k] != r) continue; // a stale pair: its start was merged away or re-paired
            int right = next[k];
            int after = next[right];
            tr[k] = r;
            pr[right] = NONE;
            next[k] = after;
            if (after < n) prev[after] = k;
            parts--;
            int nr = NONE;
            if (after < n) nr = mergedRank(ws, from + k, next[after] - k, r, tr[after]);
            pr[k] = nr;
            int p = prev[k];
            int lr = NONE;
            if (p >= 0) {
                lr = mergedRank(ws, from + p, after - p, tr[p], r);
                pr[p] = lr;
            }
            // The new pair at k goes in before the one at p so that, when both have the current
            // rank and are put in front, p (further left) comes out first.
            if (nr != NONE) q.add(nr, k, r);
            if (lr != NONE) q.add(lr, p, r);
        }
        if (out != null) {
            for (int k = 0; k < n; k = next[k]) out.add(tr[k]);
        }
        ws.work += q.takeWork();
        return parts;
    }

    /**
     * UTF-8 of {@code s[from, to)} into {@code ws.buf}; a lone surrogate becomes U+FFFD, as it
     * does in every UTF-8 encoder the reference is reached through.
     */
    private static int utf8(String s, int from, int to, Workspace ws) {
        int need = 3 * (to - from) + Vocabulary.PAD;
        if (ws.buf.length < need) ws.growBuf(need);
        byte[] buf = ws.buf;
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                buf[n++] = (byte) c;
            } else if (c < 0x800) {
                buf[n++] = (byte) (0xC0 | c >> 6);
                buf[n++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isSurrogate(c)) {
                char d;
                if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(d = s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, d);
                    buf[n++] = (byte) (0xF0 | cp >> 18);
                    buf[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    buf[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    buf[n++] = (byte) (0x80 | cp & 0x3F);
                    i++;
                } else {
                    buf[n++] = (byte) 0xEF;
                    buf[n++] = (byte) 0xBF;
                    buf[n++] = (byte) 0xBD;
                }
            } else {
                buf[n++] = (byte) (0xE0 | c >> 12);
                buf[n++] = (byte) (0x80 | c >> 6 & 0x3F);
                buf[n++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return n;
    }

    /** Per-thread scratch space; only the owning thread touches it. */
    static final class Workspace {
        static final int CACHE_BITS = 11;
        final long[] cacheKeys = new long[1 << CACHE_BITS];
        final int[] cacheRanks = new int[1 << CACHE_BITS];
        byte[] buf = new byte[1024];
        /**
         * Steps taken so far: bytes encoded, pairs scanned by the short merge, pairs popped and
         * entries sorted by the long one. Only tests read it, to show that the work stays linear
         * in the text (a plain field of the owning thread: one add per step, no contention).
         */
        long work;

        Workspace() {
            java.util.Arrays.fill(cacheKeys, -1L); // no real key is negative: ranks are >= 0
        }

        int[] pos = new int[SHORT_PIECE * 4 + 2];
        int[] pairRank = new int[SHORT_PIECE * 4 + 2];
        int[] tokenRank = new int[SHORT_PIECE * 4 + 2];
        int[] prev = new int[0];
        Buckets buckets;

        void growBuf(int need) {
            buf = new byte[Math.max(need, buf.length * 2)];
        }

        void ensureParts(int n) {
            if (pos.length < n + 1) {
                int parts = Math.max(n + 1, 2 * pos.length);
                pos = new int[parts];
                pairRank = new int[parts];
                tokenRank = new int[parts];
            }
        }

        void ensureLong(int n, int rankLimit) {
            if (prev.length < n + 1) prev = new int[Math.max(n + 1, 2 * prev.length)];
            if (buckets == null) buckets = new Buckets();
            buckets.ensure(3 * n, rankLimit);
        }
    }

    /** Growable int array without boxing. */
    public static final class IntList {
        private int[] a;
        private int size;

        public IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        public void add(int v) {
            if (size == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[size++] = v;
        }

        void addAll(int[] src, int n) {
            if (size + n > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, size + n));
            System.arraycopy(src, 0, a, size, n);
            size += n;
        }

        public int size() {
            return size;
        }

        public int[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
