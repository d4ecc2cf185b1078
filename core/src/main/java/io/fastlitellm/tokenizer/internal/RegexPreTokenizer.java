package io.fastlitellm.tokenizer.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Pre-tokenizer for a user's own pattern, with {@link java.util.regex}. Only custom encodings use
 * it; the built-in ones have hand-written pre-tokenizers, which are faster and cannot backtrack.
 * {@code UNICODE_CHARACTER_CLASS} makes {@code \s} and friends Unicode-aware, as in tiktoken.
 * Like tiktoken, text the pattern does not match is skipped.
 */
public final class RegexPreTokenizer {

    private final Pattern pattern;

    public RegexPreTokenizer(String regex) {
        try {
            this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("pattern: " + e.getDescription() + " at index " + e.getIndex()
                    + " of '" + regex + "' (expected: a java.util.regex pattern)", e);
        }
    }

    public String pattern() {
        return pattern.pattern();
    }

    /** Calls {@code sink.piece(from, to)} for each match in {@code s[from, to)}. */
    public void split(String s, int from, int to, PieceSink sink) {
        Matcher m = pattern.matcher(s).region(from, to);
        m.useTransparentBounds(false).useAnchoringBounds(true);
        while (m.find()) {
            if (m.end() == m.start()) continue; // an empty match encodes nothing
            sink.piece(m.start(), m.end());
        }
    }

    /** Receives pieces in order. */
    @FunctionalInterface
    public interface PieceSink {
        void piece(int from, int to);
    }
}
