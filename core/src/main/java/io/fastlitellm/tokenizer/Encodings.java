package io.fastlitellm.tokenizer;

import io.fastlitellm.tokenizer.internal.BpeEngine;
import io.fastlitellm.tokenizer.internal.PreTokenizer;
import io.fastlitellm.tokenizer.internal.RegexPreTokenizer;
import io.fastlitellm.tokenizer.internal.Vocabulary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where encodings come from: the built-in tiktoken encodings by name or by model, loaded on first
 * use from the {@code .tiktoken} files on the class path and cached for the life of the JVM, and
 * custom encodings from a user's own {@code .tiktoken} file and pattern.
 *
 * <p>Thread-safe: concurrent first uses of one name load it once.
 */
public final class Encodings {

    public static final String R50K_BASE = "r50k_base";
    public static final String P50K_BASE = "p50k_base";
    public static final String P50K_EDIT = "p50k_edit";
    public static final String CL100K_BASE = "cl100k_base";
    public static final String O200K_BASE = "o200k_base";

    /** Names {@link #get(String)} accepts, in order of age. */
    public static final List<String> NAMES = List.of(R50K_BASE, P50K_BASE, P50K_EDIT, CL100K_BASE, O200K_BASE);

    /** tiktoken's patterns; a custom encoding using one of them gets its hand-written pre-tokenizer. */
    public static final String R50K_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    public static final String CL100K_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    public static final String O200K_PATTERN = String.join("|",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "\\p{N}{1,3}",
            " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
            "\\s*[\\r\\n]+",
            "\\s+(?!\\S)",
            "\\s+");

    private static final String RESOURCE_DIR = "com/knuddels/jtokkit/";
    private static final String ENDOFTEXT = "<|endoftext|>";
    private static final String FIM_PREFIX = "<|fim_prefix|>";
    private static final String FIM_MIDDLE = "<|fim_middle|>";
    private static final String FIM_SUFFIX = "<|fim_suffix|>";
    private static final String ENDOFPROMPT = "<|endofprompt|>";

    private static final ConcurrentHashMap<String, Encoding> ENCODINGS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<String, Vocabulary> VOCABULARIES = new ConcurrentHashMap<>();

    private Encodings() {
    }

    /**
     * The built-in encoding with this name, loaded on first use.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static Encoding get(String name) {
        Objects.requireNonNull(name, "name");
        Encoding e = ENCODINGS.get(name);
        if (e != null) return e;
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("encoding: '" + name + "' (expected one of " + NAMES + ")");
        }
        return ENCODINGS.computeIfAbsent(name, Encodings::loadBuiltIn);
    }

    /** The encoding for a model name, as {@link ModelEncodings#encodingName(String)} maps it. */
    public static Encoding forModel(String model) {
        return get(ModelEncodings.encodingName(model));
    }

    private static Encoding loadBuiltIn(String name) {
        return switch (name) {
            case R50K_BASE -> new Encoding(name, engine("r50k_base", PreTokenizer.R50K), Map.of(ENDOFTEXT, 50256));
            case P50K_BASE -> new Encoding(name, engine("p50k_base", PreTokenizer.R50K), Map.of(ENDOFTEXT, 50256));
            case P50K_EDIT -> new Encoding(name, engine("p50k_base", PreTokenizer.R50K),
                    Map.of(ENDOFTEXT, 50256, FIM_PREFIX, 50281, FIM_MIDDLE, 50282, FIM_SUFFIX, 50283));
            case CL100K_BASE -> new Encoding(name, engine("cl100k_base", PreTokenizer.CL100K), Map.of(ENDOFTEXT, 100257,
                    FIM_PREFIX, 100258, FIM_MIDDLE, 100259, FIM_SUFFIX, 100260, ENDOFPROMPT, 100276));
            case O200K_BASE -> new Encoding(name, engine("o200k_base", PreTokenizer.O200K),
                    Map.of(ENDOFTEXT, 199999, ENDOFPROMPT, 200018));
            default -> throw new IllegalStateException(name);
        };
    }

    private static BpeEngine engine(String vocabName, PreTokenizer pre) {
        return new BpeEngine(VOCABULARIES.computeIfAbsent(vocabName, Encodings::readResource), pre, null);
    }

    private static Vocabulary readResource(String vocabName) {
        String path = RESOURCE_DIR + vocabName + ".tiktoken";
        try (InputStream in = Encodings.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("class path: " + path + " not found (expected: the jtokkit jar on the class path)");
            }
            return Vocabulary.read(in, path);
        } catch (IOException e) {
            throw new UncheckedIOException("class path: reading " + path, e);
        }
    }

    /**
     * A custom encoding from a {@code .tiktoken} file ({@code base64(token) rank} a line). If
     * {@code pattern} is one of tiktoken's patterns ({@link #R50K_PATTERN}, {@link #CL100K_PATTERN},
     * {@link #O200K_PATTERN}) the matching hand-written pre-tokenizer is used; otherwise it is
     * compiled with {@link java.util.regex} (Unicode classes on).
     */
    public static Encoding load(String name, Path tiktokenFile, String pattern, Map<String, Integer> specialTokens)
            throws IOException {
        Objects.requireNonNull(tiktokenFile, "tiktokenFile");
        try (InputStream in = Files.newInputStream(tiktokenFile)) {
            return load(name, in, tiktokenFile.toString(), pattern, specialTokens);
        }
    }

    /** {@link #load(String, Path, String, Map)} from a stream; {@code source} names it in errors. */
    public static Encoding load(String name, InputStream tiktoken, String source, String pattern,
                                Map<String, Integer> specialTokens) throws IOException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tiktoken, "tiktoken");
        Objects.requireNonNull(pattern, "pattern");
        Objects.requireNonNull(specialTokens, "specialTokens");
        Vocabulary vocab = Vocabulary.read(tiktoken, source);
        BpeEngine engine = switch (pattern) {
            case R50K_PATTERN -> new BpeEngine(vocab, PreTokenizer.R50K, null);
            case CL100K_PATTERN -> new BpeEngine(vocab, PreTokenizer.CL100K, null);
            default -> pattern.equals(O200K_PATTERN)
                    ? new BpeEngine(vocab, PreTokenizer.O200K, null)
                    : new BpeEngine(vocab, null, new RegexPreTokenizer(pattern));
        };
        return new Encoding(name, engine, specialTokens);
    }
}
