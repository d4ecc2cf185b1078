package io.fastlitellm.tokenizer;

import java.util.SplittableRandom;

/**
 * Seeded random text built from fragments chosen to exercise every branch of the pre-tokenizers:
 * letters of every case class, marks, numbers of several scripts, every kind of whitespace,
 * CR/LF, apostrophes and contractions, punctuation, slashes, emoji and ZWJ sequences.
 */
final class TextGenerator {

    private static final String[] POOLS = {
        "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ſKµßÆæØø", "ǅǈǋǲᾈᾘ", "ʰʲˆˇー々ⁿ",
        "中文字符日本語한국어กขคภาษา", "абвгдАБВГДёЁ", "αβγΑΒΓ", "مرحباשלום", "हिन्दी", "\u0301\u0300\u0308\u093f\u0e31\ufe0f",
        "0123456789", "٠١٢٣٤٥٦٧٨٩²³½Ⅻ１", " ", "  ", "\t", "\n", "\r\n", "\r",
        "\u00a0\u2003\u3000\u0085\u2028\u000b\u000c", "'", "'s", "'T", "'ll", "'RE", "'ve", "'M", "'D",
        ".,;:!?-_()[]{}<>\"#$%&*+=@^`|~", "/", "//", "’‘“”…—–", "😀🎉👍🏽❤️👨‍👩‍👧🇯🇵", "\u200d\u200b\u00ad",
        "\u001f\u001c", "the ", "The ", " of", "ing", "tion", "HTTP", "Server", "don't", "WON'T",
    };

    private final SplittableRandom random;

    TextGenerator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    String next(int maxFragments) {
        StringBuilder b = new StringBuilder();
        int n = 1 + random.nextInt(maxFragments);
        for (int i = 0; i < n; i++) {
            String pool = POOLS[random.nextInt(POOLS.length)];
            String piece;
            if (random.nextInt(10) < 3) {
                piece = pool;
            } else {
                int[] cps = pool.codePoints().toArray();
                piece = Character.toString(cps[random.nextInt(cps.length)]);
            }
            b.append(piece.repeat(random.nextInt(10) == 0 ? 1 + random.nextInt(8) : 1));
        }
        return b.toString();
    }
}
