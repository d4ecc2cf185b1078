package io.fastlitellm.tokenizer.internal;

/**
 * The Unicode classes the tiktoken patterns use, as bit flags per code point: {@code \p{L}},
 * {@code \p{N}}, {@code \s} (Unicode White_Space, as in Rust's regex, not Java's
 * {@link Character#isWhitespace}), and o200k's case classes. The BMP is a precomputed table;
 * supplementary code points are classified on the fly (they are rare in text).
 *
 * <p>A lone surrogate is classified as U+FFFD (a symbol), because that is what it becomes when the
 * text is turned into UTF-8 before the reference tokenizer sees it.
 */
public final class CharClass {

    public static final int LETTER = 1;
    public static final int NUMBER = 2;
    public static final int SPACE = 4;
    /** CR or LF. */
    public static final int NEWLINE = 8;
    /** o200k's {@code [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]}. */
    public static final int UPPERISH = 16;
    /** o200k's {@code [\p{Ll}\p{Lm}\p{Lo}\p{M}]}. */
    public static final int LOWERISH = 32;
    /** {@code \p{M}}: marks are not letters, so they may be the optional prefix character. */
    public static final int MARK = 64;

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int c = 0; c < 0x10000; c++) {
            BMP[c] = (byte) compute(Character.isSurrogate((char) c) ? 0xFFFD : c);
        }
    }

    private CharClass() {
    }

    public static int of(int cp) {
        return cp < 0x10000 ? BMP[cp] : compute(cp);
    }

    private static int compute(int cp) {
        int flags = 0;
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.TITLECASE_LETTER -> flags = LETTER | UPPERISH;
            case Character.LOWERCASE_LETTER -> flags = LETTER | LOWERISH;
            case Character.MODIFIER_LETTER, Character.OTHER_LETTER -> flags = LETTER | UPPERISH | LOWERISH;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK ->
                    flags = MARK | UPPERISH | LOWERISH;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> flags = NUMBER;
            default -> flags = 0;
        }
        if (isWhiteSpace(cp)) flags |= SPACE;
        if (cp == '\r' || cp == '\n') flags |= NEWLINE;
        return flags;
    }

    /** Unicode's White_Space property, which is what {@code \s} means in Rust's regex. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }
}
