package io.fastlitellm.tokenizer.internal;

import static io.fastlitellm.tokenizer.internal.CharClass.LETTER;
import static io.fastlitellm.tokenizer.internal.CharClass.NEWLINE;
import static io.fastlitellm.tokenizer.internal.CharClass.NUMBER;
import static io.fastlitellm.tokenizer.internal.CharClass.SPACE;

/**
 * Splits text into the pieces that the byte-pair merge then encodes one at a time, exactly as an
 * encoding's regular expression does under leftmost-first (Perl/Rust fancy-regex) semantics.
 * Implementations are stateless, so one instance serves all threads; each call is linear in the
 * length of the piece it returns plus what it looks at behind it, so a whole text is linear.
 *
 * <p>Indices are {@code char} indices into a Java string; a surrogate pair is one code point and a
 * lone surrogate is treated as U+FFFD (see {@link CharClass}).
 */
public abstract class PreTokenizer {

    /** Returns the end (exclusive) of the piece that starts at {@code i}, {@code i < end}. */
    public abstract int next(String s, int i, int end);

    static int cp(String s, int i, int end) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end) {
            char d = s.charAt(i + 1);
            if (Character.isLowSurrogate(d)) return Character.toCodePoint(c, d);
        }
        return c;
    }

    static int cls(String s, int i, int end) {
        char c = s.charAt(i);
        if (c < 0xD800) return CharClass.of(c);
        return CharClass.of(cp(s, i, end));
    }

    static int width(String s, int i, int end) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
    }

    /** Index after the maximal run of code points whose class shares a bit with {@code mask}. */
    static int run(String s, int i, int end, int mask) {
        while (i < end) {
            char c = s.charAt(i);
            if (c < 0xD800) {
                if ((CharClass.of(c) & mask) == 0) return i;
                i++;
            } else {
                int cp = cp(s, i, end);
                if ((CharClass.of(cp) & mask) == 0) return i;
                i += Character.charCount(cp);
            }
        }
        return i;
    }

    /** Index after the maximal run of code points whose class shares no bit with {@code mask}. */
    static int runNot(String s, int i, int end, int mask) {
        while (i < end) {
            char c = s.charAt(i);
            if (c < 0xD800) {
                if ((CharClass.of(c) & mask) != 0) return i;
                i++;
            } else {
                int cp = cp(s, i, end);
                if ((CharClass.of(cp) & mask) != 0) return i;
                i += Character.charCount(cp);
            }
        }
        return i;
    }

    /** Start index of the code point that ends at {@code i} (exclusive), not before {@code floor}. */
    static int prev(String s, int i, int floor) {
        if (i - 2 >= floor && Character.isLowSurrogate(s.charAt(i - 1)) && Character.isHighSurrogate(s.charAt(i - 2))) {
            return i - 2;
        }
        return i - 1;
    }

    /**
     * Length of a case-sensitive contraction at {@code i} ({@code 's|'t|'re|'ve|'m|'ll|'d}), or 0.
     */
    static int contraction(String s, int i, int end) {
        if (i + 1 >= end || s.charAt(i) != '\'') return 0;
        char d = s.charAt(i + 1);
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return 2;
        if (i + 2 < end) {
            char e = s.charAt(i + 2);
            if ((d == 'r' || d == 'v') && e == 'e' || d == 'l' && e == 'l') return 3;
        }
        return 0;
    }

    /**
     * Length of {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)} at {@code i}, or 0. Unicode case folding makes
     * {@code s} also match U+017F LATIN SMALL LETTER LONG S, as it does in Rust's regex.
     */
    static int contractionIgnoreCase(String s, int i, int end) {
        if (i + 1 >= end || s.charAt(i) != '\'') return 0;
        char d = s.charAt(i + 1);
        switch (d) {
            case 's', 'S', '\u017F', 't', 'T', 'm', 'M', 'd', 'D' -> {
                return 2;
            }
            default -> {
            }
        }
        if (i + 2 < end) {
            char e = s.charAt(i + 2);
            boolean eIsE = e == 'e' || e == 'E';
            if ((d == 'r' || d == 'R' || d == 'v' || d == 'V') && eIsE || (d == 'l' || d == 'L') && (e == 'l' || e == 'L')) {
                return 3;
            }
        }
        return 0;
    }

    /**
     * {@code \s*[\r\n]+|\s+(?!\S)|\s+} at a whitespace code point (cl100k, o200k). The first
     * alternative ends after the last CR/LF of the whitespace run; the second leaves the run's last
     * character for the next piece unless the run ends the text.
     */
    static int whitespaceWithNewlines(String s, int i, int end) {
        int k = run(s, i, end, SPACE); // all White_Space code points are in the BMP
        // \s*[\r\n]+ : \s* backtracks from the right to the last CR/LF in the run.
        for (int p = k - 1; p >= i; p--) {
            char c = s.charAt(p);
            if (c == '\r' || c == '\n') return p + 1;
        }
        return whitespaceTail(i, k, end);
    }

    /** {@code \p{N}{1,3}} after its first number, which ends at {@code k}. */
    static int upToThreeNumbers(String s, int k, int end) {
        for (int n = 1; n < 3 && k < end && (cls(s, k, end) & NUMBER) != 0; n++) k += width(s, k, end);
        return k;
    }

    /** {@code \s+(?!\S)|\s+} given the maximal whitespace run {@code [i, k)}. */
    static int whitespaceTail(int i, int k, int end) {
        if (k == end) return k;     // \s+(?!\S): the run reaches the end of the text
        if (k - 1 > i) return k - 1; // \s+(?!\S): give back one so a space can lead the next word
        return k;                   // \s+: a single whitespace before a non-space
    }

    /** r50k_base, p50k_base, p50k_edit (and gpt2). */
    public static final PreTokenizer R50K = new PreTokenizer() {
        // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
        @Override
        public int next(String s, int i, int end) {
            int m = contraction(s, i, end); // 's|'t|'re|'ve|'m|'ll|'d
            if (m > 0) return i + m;
            int j = s.charAt(i) == ' ' && i + 1 < end ? i + 1 : i; // ' ?'
            int f = cls(s, j, end);
            if ((f & LETTER) != 0) return run(s, j, end, LETTER); // ?\p{L}+
            if ((f & NUMBER) != 0) return run(s, j, end, NUMBER); // ?\p{N}+
            if ((f & SPACE) == 0) return runNot(s, j, end, SPACE | LETTER | NUMBER); // ?[^\s\p{L}\p{N}]+
            // Here s[i] is whitespace: \s+(?!\S)|\s+
            return whitespaceTail(i, run(s, i, end, SPACE), end);
        }
    };

    /** cl100k_base. */
    public static final PreTokenizer CL100K = new PreTokenizer() {
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
        // |\s*[\r\n]+|\s+(?!\S)|\s+
        @Override
        public int next(String s, int i, int end) {
            int m = contractionIgnoreCase(s, i, end); // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (m > 0) return i + m;
            int f = cls(s, i, end);
            if ((f & LETTER) != 0) return run(s, i, end, LETTER); // \p{L}+ without the prefix
            int w = width(s, i, end);
            if ((f & (NEWLINE | NUMBER)) == 0 && i + w < end && (cls(s, i + w, end) & LETTER) != 0) {
                return run(s, i + w, end, LETTER); // [^\r\n\p{L}\p{N}]\p{L}+
            }
            if ((f & NUMBER) != 0) return upToThreeNumbers(s, i + w, end); // \p{N}{1,3}
            int j = s.charAt(i) == ' ' && i + 1 < end ? i + 1 : i; // ' ?'
            if ((cls(s, j, end) & (SPACE | LETTER | NUMBER)) == 0) { // ?[^\s\p{L}\p{N}]+[\r\n]*
                return run(s, runNot(s, j, end, SPACE | LETTER | NUMBER), end, NEWLINE);
            }
            return whitespaceWithNewlines(s, i, end); // \s*[\r\n]+|\s+(?!\S)|\s+
        }
    };

    /** o200k_base. */
    public static final PreTokenizer O200K = new PreTokenizer() {
        // A: [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
        // B: [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
        // C: \p{N}{1,3}   D:  ?[^\s\p{L}\p{N}]+[\r\n/]*   E: \s*[\r\n]+   F: \s+(?!\S)   G: \s+
        @Override
        public int next(String s, int i, int end) {
            int f = cls(s, i, end);
            int w = width(s, i, end);
            // The optional prefix is any code point but CR, LF, a letter or a number (marks and
            // whitespace included); the regex tries each alternative with it first, then without.
            boolean prefixable = (f & (NEWLINE | LETTER | NUMBER)) == 0 && i + w < end;
            int e;
            if (prefixable && (e = upperThenLower(s, i + w, end)) >= 0) return withContraction(s, e, end);
            if ((f & (CharClass.UPPERISH | CharClass.LOWERISH)) != 0 && (e = upperThenLower(s, i, end)) >= 0) {
                return withContraction(s, e, end);
            }
            if (prefixable && (e = upperRun(s, i + w, end)) >= 0) return withContraction(s, e, end);
            if ((f & CharClass.UPPERISH) != 0 && (e = upperRun(s, i, end)) >= 0) return withContraction(s, e, end);
            if ((f & NUMBER) != 0) return upToThreeNumbers(s, i + w, end); // C: \p{N}{1,3}
            int j = s.charAt(i) == ' ' && i + 1 < end ? i + 1 : i; // D: ' ?'
            if ((cls(s, j, end) & (SPACE | LETTER | NUMBER)) == 0) { // D: [^\s\p{L}\p{N}]+[\r\n/]*
                int k = runNot(s, j, end, SPACE | LETTER | NUMBER);
                while (k < end && (s.charAt(k) == '\r' || s.charAt(k) == '\n' || s.charAt(k) == '/')) k++;
                return k;
            }
            return whitespaceWithNewlines(s, i, end); // E|F|G
        }

        /** A's {@code [Lu Lt Lm Lo M]*[Ll Lm Lo M]+} from {@code p}: its end, or -1. */
        private int upperThenLower(String s, int p, int end) {
            int q = run(s, p, end, CharClass.UPPERISH);
            if (q < end && (cls(s, q, end) & CharClass.LOWERISH) != 0) return run(s, q, end, CharClass.LOWERISH);
            // The star gives back code points from the right until one of them can start the plus;
            // everything between it and q is Lu/Lt, which the plus cannot take, so it ends there.
            for (int t = q; t > p; ) {
                t = prev(s, t, p);
                if ((cls(s, t, end) & CharClass.LOWERISH) != 0) return t + width(s, t, end);
            }
            return -1;
        }

        /** B's {@code [Lu Lt Lm Lo M]+[Ll Lm Lo M]*} from {@code p}: its end, or -1. */
        private int upperRun(String s, int p, int end) {
            int q = run(s, p, end, CharClass.UPPERISH);
            return q == p ? -1 : run(s, q, end, CharClass.LOWERISH);
        }

        private int withContraction(String s, int e, int end) {
            return e + contractionIgnoreCase(s, e, end); // (?i:'s|'t|'re|'ve|'m|'ll|'d)?
        }
    };
}
