package io.fastlitellm.provider;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the mock provider cuts its response into stream chunks. */
class MockProviderTest {

    @Test
    void byDefaultOneChunkPerWordWithItsLeadingSpace() {
        assertThat(MockProvider.pieces("one two  three", 0)).containsExactly("one", " two", "  three");
        assertThat(String.join("", MockProvider.pieces(" lead and trail ", 0))).isEqualTo(" lead and trail ");
    }

    @Test
    void nChunksAreNearEqualAndNeverSplitASurrogatePair() {
        assertThat(MockProvider.pieces("abcdefghij", 3)).containsExactly("abcd", "efg", "hij");
        String emoji = "😀😀😀";
        assertThat(MockProvider.pieces(emoji, 2)).containsExactly("😀😀", "😀");
        assertThat(MockProvider.pieces("ab", 5)).containsExactly("a", "b");
        assertThat(MockProvider.pieces("", 3)).isEmpty();
    }
}
