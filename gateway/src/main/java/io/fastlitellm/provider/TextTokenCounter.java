package io.fastlitellm.provider;

/** Counts the tokens of a text as the given model's tokenizer would. */
@FunctionalInterface
public interface TextTokenCounter {
    long count(String model, String text);
}
