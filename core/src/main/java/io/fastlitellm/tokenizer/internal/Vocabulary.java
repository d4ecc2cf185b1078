package io.fastlitellm.tokenizer.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A BPE vocabulary: byte sequence to rank and back, read from a {@code .tiktoken} file (one
 * {@code base64(token) rank} pair a line). Immutable once built, so it is shared by all threads.
 *
 * <p>Lookups sit on the hot path of every merge step, so tokens of up to 7 bytes (nearly all merge
 * candidates) live in an open-addressing table keyed by the bytes packed into one {@code long};
 * longer tokens live in a second table that compares bytes. Callers pass buffers with at least 8
 * readable bytes past {@code from} (see {@link #PAD}) so a short key is one unaligned read.
 */
public final class Vocabulary {

    /** Bytes callers keep readable after the end of any range they look up. */
    public static final int PAD = 8;

    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Token bytes of every rank, concatenated in rank order; holes have zero length. */
    private final byte[] tokenBytes;
    /** {@code tokenOffsets[r] .. tokenOffsets[r + 1]} are rank r's bytes in {@link #tokenBytes}. */
    private final int[] tokenOffsets;
    private final boolean[] present;
    private final int size;

    /**
     * Open addressing with key and rank side by side ({@code [2i]} key, {@code [2i + 1]} rank or
     * -1 when empty), so a lookup touches one cache line, not two.
     */
    private final long[] shortTable;
    private final int shortMask;
    /** Rank of every two-byte sequence, -1 when absent: the first merge step of every piece. */
    private final int[] pairRanks = new int[1 << 16];

    private final int[] longSlots;
    private final int longMask;

    private Vocabulary(byte[][] byRank, int size) {
        this.size = size;
        int maxRank = byRank.length - 1;
        int total = 0;
        int shortCount = 0;
        int longCount = 0;
        present = new boolean[maxRank + 1];
        for (int r = 0; r <= maxRank; r++) {
            if (byRank[r] != null) {
                present[r] = true;
                total += byRank[r].length;
                if (byRank[r].length <= 7) shortCount++; else longCount++;
            }
        }
        tokenBytes = new byte[total + PAD];
        tokenOffsets = new int[maxRank + 2];
        int at = 0;
        for (int r = 0; r <= maxRank; r++) {
            tokenOffsets[r] = at;
            if (byRank[r] != null) {
                System.arraycopy(byRank[r], 0, tokenBytes, at, byRank[r].length);
                at += byRank[r].length;
            }
        }
        tokenOffsets[maxRank + 1] = at;

        int shortCap = tableSize(shortCount);
        shortTable = new long[2 * shortCap];
        for (int i = 1; i < shortTable.length; i += 2) shortTable[i] = -1;
        shortMask = shortCap - 1;
        Arrays.fill(pairRanks, -1);
        int longCap = tableSize(longCount);
        longSlots = new int[longCap];
        Arrays.fill(longSlots, -1);
        longMask = longCap - 1;

        for (int r = 0; r <= maxRank; r++) {
            if (!present[r]) continue;
            int from = tokenOffsets[r];
            int len = tokenOffsets[r + 1] - from;
            if (len <= 7) {
                long key = pack(tokenBytes, from, len);
                int slot = mix(key) & shortMask;
                while (shortTable[2 * slot + 1] >= 0) {
                    if (shortTable[2 * slot] == key) throw duplicate(r);
                    slot = (slot + 1) & shortMask;
                }
                shortTable[2 * slot] = key;
                shortTable[2 * slot + 1] = r;
                if (len == 2) pairRanks[(tokenBytes[from] & 0xFF) << 8 | (tokenBytes[from + 1] & 0xFF)] = r;
            } else {
                int slot = hashLong(tokenBytes, from, len) & longMask;
                while (longSlots[slot] >= 0) {
                    if (sameBytes(longSlots[slot], tokenBytes, from, len)) throw duplicate(r);
                    slot = (slot + 1) & longMask;
                }
                longSlots[slot] = r;
            }
        }
    }

    private static IllegalArgumentException duplicate(int rank) {
        return new IllegalArgumentException("vocabulary: rank " + rank + " repeats the bytes of an earlier token (expected: each token once)");
    }

    private static int tableSize(int count) {
        int cap = Integer.highestOneBit(Math.max(4, count * 2 + 1)) << 1;
        return cap;
    }

    /** Reads a {@code .tiktoken} stream; {@code source} names it in error messages. */
    public static Vocabulary read(InputStream in, String source) throws IOException {
        byte[] all = in.readAllBytes();
        // Count lines first so the rank array is sized once.
        byte[][] byRank = new byte[Math.max(16, countLines(all))][];
        int count = 0;
        int maxRank = -1;
        int line = 0;
        int i = 0;
        int n = all.length;
        while (i < n) {
            int lineStart = i;
            while (i < n && all[i] != '\n') i++;
            int lineEnd = i;
            i++;
            line++;
            if (lineEnd > lineStart && all[lineEnd - 1] == '\r') lineEnd--;
            if (lineEnd == lineStart) continue;
            int space = lineStart;
            while (space < lineEnd && all[space] != ' ') space++;
            if (space == lineEnd || space == lineStart) {
                throw new IllegalArgumentException(source + ": line " + line + " (expected: '<base64 token> <rank>')");
            }
            int rank = 0;
            for (int k = space + 1; k < lineEnd; k++) {
                int d = all[k] - '0';
                if (d < 0 || d > 9 || rank > 100_000_000) {
                    throw new IllegalArgumentException(source + ": line " + line + ": rank is not a non-negative integer (expected: '<base64 token> <rank>')");
                }
                rank = rank * 10 + d;
            }
            if (space + 1 == lineEnd) {
                throw new IllegalArgumentException(source + ": line " + line + ": missing rank (expected: '<base64 token> <rank>')");
            }
            byte[] token;
            try {
                token = java.util.Base64.getDecoder().decode(Arrays.copyOfRange(all, lineStart, space));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": line " + line + ": token is not base64 (" + e.getMessage() + ")");
            }
            if (token.length == 0) {
                throw new IllegalArgumentException(source + ": line " + line + ": empty token (expected: at least one byte)");
            }
            if (rank >= byRank.length) byRank = Arrays.copyOf(byRank, Math.max(rank + 1, byRank.length * 2));
            if (byRank[rank] != null) {
                throw new IllegalArgumentException(source + ": line " + line + ": rank " + rank + " appears twice (expected: each rank once)");
            }
            byRank[rank] = token;
            count++;
            maxRank = Math.max(maxRank, rank);
        }
        if (count == 0) throw new IllegalArgumentException(source + ": no tokens (expected: lines '<base64 token> <rank>')");
        return new Vocabulary(Arrays.copyOf(byRank, maxRank + 1), count);
    }

    private static int countLines(byte[] all) {
        int lines = 1;
        for (byte b : all) if (b == '\n') lines++;
        return lines;
    }

    /** Number of tokens (not counting holes in the rank space). */
    public int size() {
        return size;
    }

    /** One past the highest rank. */
    public int rankLimit() {
        return present.length;
    }

    public boolean contains(int rank) {
        return rank >= 0 && rank < present.length && present[rank];
    }

    /**
     * Rank of {@code buf[from, from + len)}, or -1. {@code buf} must have {@link #PAD} readable
     * bytes from {@code from} when {@code len <= 7}.
     */
    public int rank(byte[] buf, int from, int len) {
        if (len <= 7) {
            long key = (long) LONG_LE.get(buf, from) & ((1L << (len << 3)) - 1) | ((long) len << 56);
            int slot = mix(key) & shortMask;
            long[] t = shortTable;
            while (true) {
                long r = t[2 * slot + 1];
                if (r < 0) return -1;
                if (t[2 * slot] == key) return (int) r;
                slot = (slot + 1) & shortMask;
            }
        }
        int slot = hashLong(buf, from, len) & longMask;
        while (true) {
            int r = longSlots[slot];
            if (r < 0) return -1;
            if (sameBytes(r, buf, from, len)) return r;
            slot = (slot + 1) & longMask;
        }
    }

    /** Rank of the two bytes {@code buf[from, from + 2)}, or -1. */
    public int pairRank(byte[] buf, int from) {
        return pairRanks[(buf[from] & 0xFF) << 8 | (buf[from + 1] & 0xFF)];
    }

    /** Copies rank's bytes into {@code out} at {@code at}; returns the count copied. */
    public int copyBytes(int rank, byte[] out, int at) {
        int from = tokenOffsets[rank];
        int len = tokenOffsets[rank + 1] - from;
        System.arraycopy(tokenBytes, from, out, at, len);
        return len;
    }

    public int tokenLength(int rank) {
        return tokenOffsets[rank + 1] - tokenOffsets[rank];
    }

    public byte[] tokenBytes(int rank) {
        return Arrays.copyOfRange(tokenBytes, tokenOffsets[rank], tokenOffsets[rank + 1]);
    }

    /** Heap bytes held by the tables, for the benchmark report. */
    public long retainedBytes() {
        return tokenBytes.length + 4L * tokenOffsets.length + present.length
                + 8L * shortTable.length + 4L * pairRanks.length + 4L * longSlots.length;
    }

    private boolean sameBytes(int rank, byte[] buf, int from, int len) {
        int tf = tokenOffsets[rank];
        if (tokenOffsets[rank + 1] - tf != len) return false;
        return Arrays.equals(tokenBytes, tf, tf + len, buf, from, from + len);
    }

    private static long pack(byte[] b, int from, int len) {
        long key = 0;
        for (int k = len - 1; k >= 0; k--) key = (key << 8) | (b[from + k] & 0xFF);
        return key | ((long) len << 56);
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29) ^ (h >>> 41));
    }

    private static int hashLong(byte[] b, int from, int len) {
        long h = (long) LONG_LE.get(b, from) * 0x9E3779B97F4A7C15L + len;
        long tail = (long) LONG_LE.get(b, from + len - 8);
        h = (h ^ (h >>> 31)) + tail * 0xC2B2AE3D27D4EB4FL;
        return (int) (h ^ (h >>> 29) ^ (h >>> 43));
    }
}
