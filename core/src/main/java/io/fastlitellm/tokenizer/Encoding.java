package io.fastlitellm.tokenizer;

import io.fastlitellm.tokenizer.internal.BpeEngine;
import io.fastlitellm.tokenizer.internal.BpeEngine.IntList;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One tiktoken encoding (vocabulary, pre-tokenizer pattern and special tokens): text to token ids
 * and back, giving exactly the ids OpenAI's tiktoken gives.
 *
 * <p>Immutable and thread-safe: share one instance (from {@link Encodings}) across all threads.
 * {@link #countTokens(String)} allocates nothing per token; encoding allocates only its result.
 *
 * <p>Special tokens follow tiktoken: {@link #encode(String)} refuses text that contains a special
 * token's text, {@link #encode(String, Set)} turns the allowed ones into their ids (and still
 * refuses the others), and {@link #encodeOrdinary(String)} treats all of it as plain text.
 * A lone surrogate in a Java string is encoded as U+FFFD, as tiktoken's bindings do.
 */
public final class Encoding {

    private final String name;
    private final BpeEngine engine;
    private final Map<String, Integer> specialTokens;
    private final String[] specialTexts;
    private final int[] specialIds;
    private final int maxId;
    private final byte[][] specialBytes;
    private final int specialBase;
    /** The first character all special tokens share (every built-in one starts with '<'), or 0. */
    private final char firstChar;

    Encoding(String name, BpeEngine engine, Map<String, Integer> specialTokens) {
        this.name = name;
        this.engine = engine;
        if (specialTokens.size() > 0xFFFF) {
            throw new IllegalArgumentException(name + ": " + specialTokens.size() + " special tokens (expected: at most 65535)");
        }
        this.specialTokens = Collections.unmodifiableMap(new TreeMap<>(specialTokens));
        this.specialTexts = new String[specialTokens.size()];
        this.specialIds = new int[specialTokens.size()];
        int i = 0;
        int max = engine.vocabulary().rankLimit() - 1;
        int minSpecial = Integer.MAX_VALUE;
        for (Map.Entry<String, Integer> e : this.specialTokens.entrySet()) {
            String text = e.getKey();
            int id = e.getValue();
            if (text.isEmpty()) throw new IllegalArgumentException(name + ": special token text is empty (expected: non-empty text)");
            if (id < 0) throw new IllegalArgumentException(name + ": special token '" + text + "' id " + id + " (expected: >= 0)");
            if (engine.vocabulary().contains(id)) {
                throw new IllegalArgumentException(name + ": special token '" + text + "' id " + id
                        + " is already an ordinary token (expected: an id outside the vocabulary)");
            }
            specialTexts[i] = text;
            specialIds[i] = id;
            max = Math.max(max, id);
            minSpecial = Math.min(minSpecial, id);
            i++;
        }
        this.maxId = max;
        char first = specialTexts.length == 0 ? 0 : specialTexts[0].charAt(0);
        for (String t : specialTexts) if (t.charAt(0) != first) first = 0;
        this.firstChar = first;
        this.specialBase = specialTexts.length == 0 ? 0 : minSpecial;
        this.specialBytes = new byte[specialTexts.length == 0 ? 0 : max - minSpecial + 1][];
        for (int k = 0; k < specialTexts.length; k++) {
            specialBytes[specialIds[k] - specialBase] = specialTexts[k].getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The encoding's name, e.g. {@code cl100k_base}. */
    public String name() {
        return name;
    }

    /** Special token text to id, unmodifiable. */
    public Map<String, Integer> specialTokens() {
        return specialTokens;
    }

    /** Highest token id, special tokens included. */
    public int maxTokenId() {
        return maxId;
    }

    /**
     * Encodes text that must not contain any special token's text (tiktoken's default).
     *
     * @throws IllegalArgumentException if it does, naming the token and where it is
     */
    public int[] encode(String text) {
        return encode(text, Set.of());
    }

    /**
     * Encodes text, turning occurrences of the {@code allowedSpecial} tokens into their ids; the
     * text of any other special token is refused, as in tiktoken. Pass {@code
     * specialTokens().keySet()} to allow them all.
     */
    public int[] encode(String text, Set<String> allowedSpecial) {
        Objects.requireNonNull(text, "text");
        boolean[] allowed = allowedMask(allowedSpecial);
        IntList out = new IntList(text.length() / 3 + 4);
        int start = 0;
        long found;
        while ((found = findSpecial(text, start)) >= 0) {
            int pos = (int) (found >>> 16);
            int k = (int) (found & 0xFFFF);
            if (!allowed[k]) {
                throw new IllegalArgumentException("text contains the special token '" + specialTexts[k] + "' at index " + pos
                        + " (expected: allow it in allowedSpecial to encode it as a special token, or use encodeOrdinary to encode it as text)");
            }
            engine.encode(text, start, pos, out);
            out.add(specialIds[k]);
            start = pos + specialTexts[k].length();
        }
        engine.encode(text, start, text.length(), out);
        return out.toArray();
    }

    /** {@code position << 16 | token index} of the first special token's text at or after {@code from}, or -1. */
    private long findSpecial(String text, int from) {
        if (specialTexts.length == 0) return -1;
        for (int i = from; i < text.length(); i++) {
            i = firstChar == 0 ? i : text.indexOf(firstChar, i);
            if (i < 0) return -1;
            int best = -1;
            for (int k = 0; k < specialTexts.length; k++) {
                if (text.startsWith(specialTexts[k], i) && (best < 0 || specialTexts[k].length() > specialTexts[best].length())) best = k;
            }
            if (best >= 0) return (long) i << 16 | best;
        }
        return -1;
    }

    /** Encodes text with every special token's text treated as plain text. */
    public int[] encodeOrdinary(String text) {
        Objects.requireNonNull(text, "text");
        IntList out = new IntList(text.length() / 3 + 4);
        engine.encode(text, 0, text.length(), out);
        return out.toArray();
    }

    /**
     * Number of tokens {@link #encodeOrdinary(String)} would return, without building them and
     * without allocating per token. Special tokens' text counts as plain text, as in LiteLLM's
     * token counter ({@code disallowed_special=()}), so user text never makes a count fail.
     */
    public int countTokens(String text) {
        Objects.requireNonNull(text, "text");
        return engine.count(text, 0, text.length());
    }

    /** {@link #encodeOrdinary(String)} for each text, in order. */
    public List<int[]> encodeOrdinaryBatch(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encodeOrdinary(t));
        return out;
    }

    /** {@link #encode(String, Set)} for each text, in order. */
    public List<int[]> encodeBatch(List<String> texts, Set<String> allowedSpecial) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encode(t, allowedSpecial));
        return out;
    }

    /** {@link #countTokens(String)} for each text, in order. */
    public int[] countTokensBatch(List<String> texts) {
        int[] out = new int[texts.size()];
        for (int i = 0; i < out.length; i++) out[i] = countTokens(texts.get(i));
        return out;
    }

    /**
     * The bytes of the tokens, concatenated; special tokens give their text.
     *
     * @throws IllegalArgumentException for an id that is not a token of this encoding
     */
    public byte[] decodeBytes(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        int len = 0;
        for (int i = 0; i < ids.length; i++) len += tokenLength(ids[i], i);
        byte[] out = new byte[len];
        int at = 0;
        for (int id : ids) {
            if (engine.vocabulary().contains(id)) {
                at += engine.vocabulary().copyBytes(id, out, at);
            } else {
                byte[] sb = specialBytes[id - specialBase];
                System.arraycopy(sb, 0, out, at, sb.length);
                at += sb.length;
            }
        }
        return out;
    }

    /** The text of the tokens; invalid UTF-8 (a token sequence cut mid-character) becomes U+FFFD. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    private int tokenLength(int id, int index) {
        if (engine.vocabulary().contains(id)) return engine.vocabulary().tokenLength(id);
        int k = id - specialBase;
        if (k >= 0 && k < specialBytes.length && specialBytes[k] != null) return specialBytes[k].length;
        throw new IllegalArgumentException("ids[" + index + "]: " + id + " is not a token of " + name
                + " (expected: an id in 0.." + maxId + " that the vocabulary defines)");
    }

    private boolean[] allowedMask(Set<String> allowedSpecial) {
        Objects.requireNonNull(allowedSpecial, "allowedSpecial");
        boolean[] allowed = new boolean[specialTexts.length];
        for (String s : allowedSpecial) {
            Integer id = specialTokens.get(s);
            if (id == null) {
                throw new IllegalArgumentException("allowedSpecial: '" + s + "' is not a special token of " + name
                        + " (expected one of " + specialTokens.keySet() + ")");
            }
            for (int k = 0; k < specialTexts.length; k++) if (specialTexts[k].equals(s)) allowed[k] = true;
        }
        return allowed;
    }

    @Override
    public String toString() {
        return "Encoding[" + name + "]";
    }
}
