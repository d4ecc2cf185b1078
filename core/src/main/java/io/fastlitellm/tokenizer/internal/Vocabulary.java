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
    /**
     * Bit {@code b1 << 8 | b2} is set when some token contains byte {@code b1} followed by
     * {@code b2}. When it is clear, no merge can ever join the two bytes, so the byte-pair merge
     * can split a piece there and merge the halves independently with the same result.
     */
    private final long[] joinable = new long[1 << 10];

    private final int[] longSlots;
    private final int longMask;

    /**
     * @param tokenBytes every token's bytes in rank order, with {@link #PAD} spare bytes at the end
     * @param tokenOffsets rank r's bytes are {@code tokenBytes[tokenOffsets[r], tokenOffsets[r + 1])}
     */
    private Vocabulary(byte[] tokenBytes, int[] tokenOffsets, boolean[] present, int size) {
        this.size = size;
        this.tokenBytes = tokenBytes;
        this.tokenOffsets = tokenOffsets;
        this.present = present;
        int maxRank = present.length - 1;
        int shortCount = 0;
        int longCount = 0;
        for (int r = 0; r <= maxRank; r++) {
            if (!present[r]) continue;
            if (tokenOffsets[r + 1] - tokenOffsets[r] <= 7) shortCount++; else longCount++;
            for (int k = tokenOffsets[r]; k + 1 < tokenOffsets[r + 1]; k++) {
                int pair = (tokenBytes[k] & 0xFF) << 8 | (tokenBytes[k + 1] & 0xFF);
                joinable[pair >>> 6] |= 1L << pair;
            }
        }
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

    private static final byte[] BASE64 = new byte[256];

    static {
        java.util.Arrays.fill(BASE64, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++) BASE64[alphabet.charAt(i)] = (byte) i;
    }

    /**
     * Reads a {@code .tiktoken} stream; {@code source} names it in error messages. Decodes straight
     * into one array (no object per token), because loading runs cold, in the interpreter, on the
     * first request that needs the encoding.
     */
    public static Vocabulary read(InputStream in, String source) throws IOException {
        byte[] all = in.readAllBytes();
        int lines = countLines(all);
        int[] rankOf = new int[lines];
        int[] b64From = new int[lines];
        int[] b64To = new int[lines];
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
            if (space == lineEnd || space == lineStart || space + 1 == lineEnd) {
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
            int len = space - lineStart;
            if (len % 4 != 0) {
                throw new IllegalArgumentException(source + ": line " + line + ": token is not base64 (expected: a multiple of 4 characters)");
            }
            rankOf[count] = rank;
            b64From[count] = lineStart;
            b64To[count] = space;
            count++;
            maxRank = Math.max(maxRank, rank);
        }
        if (count == 0) throw new IllegalArgumentException(source + ": no tokens (expected: lines '<base64 token> <rank>')");
        int[] lengthOf = new int[maxRank + 1];
        boolean[] present = new boolean[maxRank + 1];
        int[] lineOfRank = new int[maxRank + 1];
        for (int t = 0; t < count; t++) {
            int r = rankOf[t];
            if (present[r]) {
                throw new IllegalArgumentException(source + ": rank " + r + " appears twice (expected: each rank once)");
            }
            present[r] = true;
            lineOfRank[r] = t;
            int from = b64From[t];
            int to = b64To[t];
            int pad = all[to - 1] == '=' ? (all[to - 2] == '=' ? 2 : 1) : 0;
            lengthOf[r] = (to - from) / 4 * 3 - pad;
            if (lengthOf[r] <= 0) throw new IllegalArgumentException(source + ": rank " + r + ": empty token (expected: at least one byte)");
        }
        int[] offsets = new int[maxRank + 2];
        for (int r = 0; r <= maxRank; r++) offsets[r + 1] = offsets[r] + lengthOf[r];
        byte[] bytes = new byte[offsets[maxRank + 1] + PAD];
        for (int r = 0; r <= maxRank; r++) {
            if (!present[r]) continue;
            int t = lineOfRank[r];
            decodeBase64(all, b64From[t], b64To[t], bytes, offsets[r], offsets[r + 1], source, r);
        }
        return new Vocabulary(bytes, offsets, present, count);
    }

    private static void decodeBase64(byte[] src, int from, int to, byte[] dst, int at, int end, String source, int rank) {
        for (int k = from; k < to; k += 4) {
            int a = BASE64[src[k] & 0xFF];
            int b = BASE64[src[k + 1] & 0xFF];
            int c = src[k + 2] == '=' ? 0 : BASE64[src[k + 2] & 0xFF];
            int d = src[k + 3] == '=' ? 0 : BASE64[src[k + 3] & 0xFF];
            if ((a | b | c | d) < 0) {
                throw new IllegalArgumentException(source + ": rank " + rank + ": token is not base64 (expected: A-Z a-z 0-9 + /)");
            }
            int v = a << 18 | b << 12 | c << 6 | d;
            if (at < end) dst[at++] = (byte) (v >> 16);
            if (at < end) dst[at++] = (byte) (v >> 8);
            if (at < end) dst[at++] = (byte) v;
        }
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

    /** Whether any token holds {@code buf[at - 1]} followed by {@code buf[at]}. */
    public boolean joinable(byte[] buf, int at) {
        int pair = (buf[at - 1] & 0xFF) << 8 | (buf[at] & 0xFF);
        return (joinable[pair >>> 6] & 1L << pair) != 0;
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
                + 8L * shortTable.length + 4L * pairRanks.length + 8L * joinable.length + 4L * longSlots.length;
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
