/**
 * Exact tiktoken token counting for the JVM: {@link io.fastlitellm.tokenizer.Encodings} gives an
 * {@link io.fastlitellm.tokenizer.Encoding} by name or model, {@link
 * io.fastlitellm.tokenizer.ModelEncodings} maps model names to encodings, and {@link
 * io.fastlitellm.tokenizer.ChatTokenCounter} counts a chat request's prompt tokens the way
 * LiteLLM's {@code token_counter} does.
 */
package io.fastlitellm.tokenizer;
