/**
 * The tokenizer's engine: vocabulary tables, hand-written pre-tokenizers and the byte-pair merge.
 * Not API: everything here may change at any time; use {@link io.fastlitellm.tokenizer.Encoding}.
 */
package io.fastlitellm.tokenizer.internal;
