package io.fastlitellm.tokenizer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BpeEngineTest {

    private static Vocabulary cl100k() throws IOException {
        return vocabulary("cl100k_base");
    }

    private static Vocabulary vocabulary(String name) throws IOException {
        try (InputStream in = BpeEngineTest.class.getClassLoader().getResourceAsStream("com/knuddels/jtokkit/" + name + ".tiktoken")) {
            return Vocabulary.read(in, name + ".tiktoken");
        }
    }

    /**
     * Linear time, shown by counting steps rather than by a clock: a mebibyte of one repeated
     * character (a letter, a space, a CJK character, an emoji, a two-letter cycle, digits) is one
     * piece the pre-tokenizer cannot split (or many tiny ones), and the work to encode it must be
     * a small constant times its bytes and grow 4x, not 16x, when the text grows 4x. tiktoken's
     * own loop would take about n^2 / 2 steps on such a piece.
     */
    @Test
    void workIsLinearInTheTextForMebibyteRuns() throws IOException {
        Object[][] engines = {
            {"r50k_base", PreTokenizer.R50K}, {"cl100k_base", PreTokenizer.CL100K}, {"o200k_base", PreTokenizer.O200K},
        };
        for (Object[] e : engines) {
            BpeEngine engine = new BpeEngine(vocabulary((String) e[0]), (PreTokenizer) e[1], null);
            for (String unit : new String[] {"a", " ", "中", "😀", "ab", "7", "\n"}) {
                long small = work(engine, unit, 1 << 18);
                long large = work(engine, unit, 1 << 20);
                long bytes = (long) unit.repeat((1 << 20) / unit.length()).getBytes(StandardCharsets.UTF_8).length;
                assertThat(large).as("%s, %s x 1 MiB: steps per byte", e[0], unit.codePointAt(0)).isLessThanOrEqualTo(16 * bytes);
                assertThat((double) large / small).as("%s, %s: 4x the text", e[0], unit.codePointAt(0)).isLessThan(4.5);
            }
        }
    }

    private static long work(BpeEngine engine, String unit, int chars) {
        String text = unit.repeat(chars / unit.length());
        long before = engine.work();
        int count = engine.count(text, 0, text.length());
        assertThat(count).isPositive();
        return engine.work() - before;
    }

    /** The heap merge must pick exactly the pairs tiktoken's simple loop picks, on any piece. */
    @Test
    void heapMergeEqualsSimpleMergeOnLongPieces() throws IOException {
        Vocabulary vocab = cl100k();
        BpeEngine simple = new BpeEngine(vocab, PreTokenizer.CL100K, null, Integer.MAX_VALUE);
        BpeEngine heap = new BpeEngine(vocab, PreTokenizer.CL100K, null, 0);
        SplittableRandom random = new SplittableRandom(7);
        String[] alphabets = {"ab", "abc ", "aaab", "xyz", "中文", " \n", "ab😀", "0123456789", "e\u0301",
            "abcdefghijklmnopqrstuvwxyz", "etaoinshrdlu", "!?.,;:-_()[]{}😀🎉✨🔥", "ニホンゴ漢字かな"};
        for (int i = 0; i < 600; i++) {
            String alphabet = alphabets[random.nextInt(alphabets.length)];
            int[] cps = alphabet.codePoints().toArray();
            StringBuilder b = new StringBuilder();
            int len = 1 + random.nextInt(random.nextBoolean() ? 400 : 3000);
            for (int k = 0; k < len; k++) b.appendCodePoint(cps[random.nextInt(cps.length)]);
            String text = b.toString();
            BpeEngine.IntList x = new BpeEngine.IntList(16);
            BpeEngine.IntList y = new BpeEngine.IntList(16);
            simple.encode(text, 0, text.length(), x);
            heap.encode(text, 0, text.length(), y);
            assertThat(y.toArray()).as(text).containsExactly(x.toArray());
            assertThat(heap.count(text, 0, text.length())).isEqualTo(x.size());
        }
    }

    @Test
    void vocabularyFileErrorsNameTheLine() {
        String bad = Base64.getEncoder().encodeToString("a".getBytes(StandardCharsets.UTF_8)) + " 0\nYg== x\n";
        assertThatThrownBy(() -> Vocabulary.read(new ByteArrayInputStream(bad.getBytes(StandardCharsets.US_ASCII)), "my.tiktoken"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("my.tiktoken: line 2")
                .hasMessageContaining("expected");
        assertThatThrownBy(() -> Vocabulary.read(new ByteArrayInputStream("YQ== 0\nYQ== 1\n".getBytes(StandardCharsets.US_ASCII)), "dup"))
                .hasMessageContaining("repeats");
        assertThatThrownBy(() -> Vocabulary.read(new ByteArrayInputStream(new byte[0]), "empty"))
                .hasMessageContaining("no tokens");
    }

    @Test
    void aByteWithoutATokenIsAClearError() throws IOException {
        // A custom vocabulary that lacks the byte 'c'.
        String file = "YQ== 0\nYg== 1\nYWI= 2\n";
        Vocabulary vocab = Vocabulary.read(new ByteArrayInputStream(file.getBytes(StandardCharsets.US_ASCII)), "tiny");
        BpeEngine engine = new BpeEngine(vocab, PreTokenizer.R50K, null);
        assertThat(engine.count("abab", 0, 4)).isEqualTo(2);
        assertThatThrownBy(() -> engine.count("abc", 0, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("byte 0x63 has no token");
    }
}
