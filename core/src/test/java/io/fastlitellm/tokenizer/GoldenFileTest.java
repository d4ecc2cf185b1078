package io.fastlitellm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the golden files (written by OpenAI's tiktoken, see core/src/test/golden) for every
 * encoding: encode ordinary, encode with all special tokens allowed, count, and decode.
 */
class GoldenFileTest {

    static Stream<GoldenCase> cases() {
        return Encodings.NAMES.stream().flatMap(name -> GoldenCase.load(name).stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReference(GoldenCase c) {
        Encoding enc = Encodings.get(c.encoding());
        switch (c.kind()) {
            case "ordinary" -> {
                assertThat(enc.encodeOrdinary(c.text())).as("encodeOrdinary").containsExactly(c.ids());
                assertThat(enc.countTokens(c.text())).as("countTokens").isEqualTo(c.ids().length);
            }
            case "special" -> assertThat(enc.encode(c.text(), enc.specialTokens().keySet())).containsExactly(c.ids());
            case "decode" -> assertThat(enc.decode(c.ids())).isEqualTo(c.text());
            default -> throw new AssertionError("unknown kind " + c.kind());
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void goldenFilesCoverEveryEncoding(String name) {
        List<GoldenCase> all = GoldenCase.load(name);
        assertThat(all).extracting(GoldenCase::kind).contains("ordinary", "special", "decode");
        assertThat(all).hasSizeGreaterThan(1000);
    }

    static Stream<String> names() {
        return Encodings.NAMES.stream();
    }
}
