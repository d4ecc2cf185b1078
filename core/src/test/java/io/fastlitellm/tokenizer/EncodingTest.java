package io.fastlitellm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EncodingTest {

    static List<String> names() {
        return Encodings.NAMES;
    }

    @ParameterizedTest
    @MethodSource("names")
    void decodeOfEncodeGivesBackValidText(String name) {
        Encoding enc = Encodings.get(name);
        TextGenerator gen = new TextGenerator(1000 + name.length());
        for (int i = 0; i < 2000; i++) {
            String text = gen.next(40);
            int[] ids = enc.encodeOrdinary(text);
            assertThat(enc.decode(ids)).isEqualTo(text);
            assertThat(new String(enc.decodeBytes(ids), StandardCharsets.UTF_8)).isEqualTo(text);
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void countEqualsTheNumberOfIds(String name) {
        Encoding enc = Encodings.get(name);
        TextGenerator gen = new TextGenerator(2000 + name.length());
        for (int i = 0; i < 2000; i++) {
            String text = gen.next(40) + (i % 7 == 0 ? "\ud800" : "");
            assertThat(enc.countTokens(text)).as(text).isEqualTo(enc.encodeOrdinary(text).length);
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void aMegabyteRunIsEncodedAndRoundTrips(String name) {
        // Runs the pre-tokenizer cannot split take the heap merge; this checks they stay exact.
        Encoding enc = Encodings.get(name);
        for (String unit : List.of("a", " ", "中", "😀", "ab")) {
            String text = unit.repeat((1 << 20) / unit.length());
            int[] ids = enc.encodeOrdinary(text);
            assertThat(enc.decode(ids)).isEqualTo(text);
            assertThat(enc.countTokens(text)).isEqualTo(ids.length);
        }
    }

    @Test
    void loneSurrogatesEncodeAsTheReplacementCharacter() {
        Encoding enc = Encodings.get("o200k_base");
        assertThat(enc.encodeOrdinary("a\ud800b")).containsExactly(enc.encodeOrdinary("a\ufffdb"));
        assertThat(enc.encodeOrdinary("\udc00")).containsExactly(enc.encodeOrdinary("\ufffd"));
        assertThat(enc.decode(enc.encodeOrdinary("x\ud83dy"))).isEqualTo("x\ufffdy");
    }

    @Test
    void specialTokenTextIsRefusedByDefaultAndAllowedOnRequest() {
        Encoding enc = Encodings.get("cl100k_base");
        assertThatThrownBy(() -> enc.encode("hi <|endoftext|>"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'<|endoftext|>' at index 3")
                .hasMessageContaining("allowedSpecial")
                .hasMessageContaining("encodeOrdinary");
        assertThat(enc.encode("hi <|endoftext|>", Set.of("<|endoftext|>"))).containsExactly(6151, 220, 100257);
        // Allowing one special token does not allow the others.
        assertThatThrownBy(() -> enc.encode("<|fim_prefix|>", Set.of("<|endoftext|>")))
                .hasMessageContaining("'<|fim_prefix|>' at index 0");
        assertThat(enc.encodeOrdinary("<|endoftext|>")).hasSizeGreaterThan(1).doesNotContain(100257);
        assertThat(enc.countTokens("<|endoftext|>")).isEqualTo(enc.encodeOrdinary("<|endoftext|>").length);
        assertThat(enc.encode("plain text")).containsExactly(enc.encodeOrdinary("plain text"));
        assertThatThrownBy(() -> enc.encode("x", Set.of("<|nope|>")))
                .hasMessageContaining("'<|nope|>' is not a special token of cl100k_base");
    }

    @Test
    void decodeRefusesIdsOutsideTheEncodingAndDecodesSpecialTokens() {
        Encoding enc = Encodings.get("r50k_base");
        assertThat(enc.decode(new int[] {50256})).isEqualTo("<|endoftext|>");
        assertThatThrownBy(() -> enc.decode(new int[] {31373, 50257}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ids[1]: 50257 is not a token of r50k_base (expected: an id in 0..50256 that the vocabulary defines)");
        assertThatThrownBy(() -> enc.decode(new int[] {-1})).hasMessageContaining("ids[0]: -1");
        assertThatThrownBy(() -> Encodings.get("p50k_base").decode(new int[] {50281}))
                .hasMessageContaining("not a token of p50k_base");
    }

    @Test
    void unknownEncodingNamesTheKnownOnes() {
        assertThatThrownBy(() -> Encodings.get("cl200k"))
                .hasMessage("encoding: 'cl200k' (expected one of [r50k_base, p50k_base, p50k_edit, cl100k_base, o200k_base])");
        assertThat(Encodings.get("cl100k_base")).isSameAs(Encodings.get("cl100k_base"));
    }

    @Test
    void batchesMatchOneByOne() {
        Encoding enc = Encodings.get("o200k_base");
        List<String> texts = List.of("one", "two <|endoftext|>", "", "三");
        assertThat(enc.countTokensBatch(texts)).containsExactly(
                texts.stream().mapToInt(enc::countTokens).toArray());
        List<int[]> batch = enc.encodeOrdinaryBatch(texts);
        for (int i = 0; i < texts.size(); i++) assertThat(batch.get(i)).containsExactly(enc.encodeOrdinary(texts.get(i)));
        assertThat(enc.encodeBatch(texts, enc.specialTokens().keySet()).get(1)).endsWith(199999);
    }

    @Test
    void encodersAreSharedAcrossThreads() throws Exception {
        Encoding enc = Encodings.get("cl100k_base");
        TextGenerator gen = new TextGenerator(99);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 400; i++) texts.add(gen.next(60));
        List<int[]> expected = texts.stream().map(enc::encodeOrdinary).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < texts.size(); i++) {
                        int k = (i + offset * 97) % texts.size();
                        if (!java.util.Arrays.equals(enc.encodeOrdinary(texts.get(k)), expected.get(k))) return false;
                        if (enc.countTokens(texts.get(k)) != expected.get(k).length) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertThat(f.get()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void customEncodingWithTiktokensPatternUsesTheSameRules(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mine.tiktoken");
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("com/knuddels/jtokkit/cl100k_base.tiktoken")) {
            Files.write(file, in.readAllBytes());
        }
        Encoding builtIn = Encodings.get("cl100k_base");
        Encoding sameRules = Encodings.load("mine", file, Encodings.CL100K_PATTERN, Map.of("<|end|>", 100300));
        // Wrapping the pattern makes it a different string, so the java.util.regex path runs.
        Encoding viaRegex = Encodings.load("mine-regex", file, "(?:" + Encodings.CL100K_PATTERN + ")", Map.of());
        TextGenerator gen = new TextGenerator(5);
        for (int i = 0; i < 500; i++) {
            String text = gen.next(30);
            int[] expected = builtIn.encodeOrdinary(text);
            assertThat(sameRules.encodeOrdinary(text)).as(text).containsExactly(expected);
            assertThat(viaRegex.encodeOrdinary(text)).as(text).containsExactly(expected);
            assertThat(viaRegex.countTokens(text)).isEqualTo(expected.length);
        }
        assertThat(sameRules.encode("a<|end|>", Set.of("<|end|>"))).containsExactly(64, 100300);
        assertThat(sameRules.decode(new int[] {100300})).isEqualTo("<|end|>");
    }

    @Test
    void customEncodingErrorsSayWhatToFix(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tiny.tiktoken");
        Files.writeString(file, "YQ== 0\nYg== 1\n");
        assertThatThrownBy(() -> Encodings.load("tiny", file, "([a-z]", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pattern:")
                .hasMessageContaining("([a-z]");
        assertThatThrownBy(() -> Encodings.load("tiny", file, Encodings.R50K_PATTERN, Map.of("<|x|>", 1)))
                .hasMessageContaining("special token '<|x|>' id 1 is already an ordinary token");
    }
}
