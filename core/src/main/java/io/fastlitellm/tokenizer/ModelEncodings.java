package io.fastlitellm.tokenizer;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Model name to encoding name, as tiktoken's {@code model.py} maps OpenAI's names (exact names
 * first, then prefixes) plus LiteLLM's rules for names tiktoken does not know: anything containing
 * {@code gpt-4o} (and the newer {@code gpt-4.1}, {@code gpt-4.5}, {@code gpt-5}, {@code o1},
 * {@code o3}, {@code o4} families) uses {@code o200k_base}; every other unknown model uses
 * {@code cl100k_base}. A provider prefix ({@code azure/}, {@code openai/}, ...) is ignored.
 *
 * <p>LiteLLM counts some non-OpenAI models (Claude, Llama, Cohere) with Hugging Face tokenizers;
 * those are not part of this library, so such models count with {@code cl100k_base}.
 */
public final class ModelEncodings {

    private static final String O200K = Encodings.O200K_BASE;
    private static final String CL100K = Encodings.CL100K_BASE;
    private static final String P50K = Encodings.P50K_BASE;
    private static final String R50K = Encodings.R50K_BASE;

    /** tiktoken's MODEL_TO_ENCODING. */
    private static final Map<String, String> EXACT = new LinkedHashMap<>();
    /** tiktoken's MODEL_PREFIX_TO_ENCODING, in its order (first match wins). */
    private static final Map<String, String> PREFIX = new LinkedHashMap<>();

    static {
        for (String m : new String[] {"o1", "o3", "o4-mini", "gpt-5", "gpt-4.1", "gpt-4o"}) EXACT.put(m, O200K);
        for (String m : new String[] {"gpt-4", "gpt-3.5-turbo", "gpt-3.5", "gpt-35-turbo", "davinci-002", "babbage-002",
                "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large"}) {
            EXACT.put(m, CL100K);
        }
        for (String m : new String[] {"text-davinci-003", "text-davinci-002", "code-davinci-002", "code-davinci-001",
                "code-cushman-002", "code-cushman-001", "davinci-codex", "cushman-codex"}) {
            EXACT.put(m, P50K);
        }
        EXACT.put("text-davinci-edit-001", Encodings.P50K_EDIT);
        EXACT.put("code-davinci-edit-001", Encodings.P50K_EDIT);
        for (String m : new String[] {"text-davinci-001", "text-curie-001", "text-babbage-001", "text-ada-001", "davinci",
                "curie", "babbage", "ada", "text-similarity-davinci-001", "text-similarity-curie-001",
                "text-similarity-babbage-001", "text-similarity-ada-001", "text-search-davinci-doc-001",
                "text-search-curie-doc-001", "text-search-babbage-doc-001", "text-search-ada-doc-001",
                "code-search-babbage-code-001", "code-search-ada-code-001", "gpt2"}) {
            EXACT.put(m, R50K);
        }
        for (String p : new String[] {"o1-", "o3-", "o4-mini-", "gpt-5-", "gpt-4.5-", "gpt-4.1-", "chatgpt-4o-", "gpt-4o-"}) {
            PREFIX.put(p, O200K);
        }
        PREFIX.put("gpt-4-", CL100K);
        PREFIX.put("gpt-3.5-turbo-", CL100K);
        PREFIX.put("gpt-35-turbo-", CL100K);
        // o200k_harmony is o200k_base plus chat-format special tokens: ordinary text counts the same.
        PREFIX.put("gpt-oss-", O200K);
        PREFIX.put("ft:gpt-4o", O200K);
        PREFIX.put("ft:gpt-4", CL100K);
        PREFIX.put("ft:gpt-3.5-turbo", CL100K);
        PREFIX.put("ft:davinci-002", CL100K);
        PREFIX.put("ft:babbage-002", CL100K);
        PREFIX.put("text-embedding-", CL100K);
    }

    private ModelEncodings() {
    }

    /** The encoding name for a model; never fails (unknown, empty or null models get cl100k_base). */
    public static String encodingName(String model) {
        if (model == null) return CL100K;
        String m = model.trim().toLowerCase(Locale.ROOT);
        int slash = m.lastIndexOf('/');
        if (slash >= 0) m = m.substring(slash + 1);
        String exact = EXACT.get(m);
        if (exact != null) return exact;
        for (Map.Entry<String, String> e : PREFIX.entrySet()) {
            if (m.startsWith(e.getKey())) return e.getValue();
        }
        // LiteLLM: `if "gpt-4o" in model: o200k_base`; the same for the families that followed it,
        // wherever they appear in a deployment name (e.g. "my-gpt-4.1-eu").
        if (m.contains("gpt-4o") || m.contains("gpt-4.1") || m.contains("gpt-4.5") || m.contains("gpt-5")
                || m.contains("gpt-oss") || hasReasoningFamily(m)) {
            return O200K;
        }
        return CL100K;
    }

    /** {@code o1}, {@code o3}, {@code o4} as a whole dash-separated word: {@code o3-mini}, {@code azure-o1}. */
    private static boolean hasReasoningFamily(String m) {
        for (int i = 0; i + 1 < m.length(); i++) {
            char c = m.charAt(i);
            char d = m.charAt(i + 1);
            if (c == 'o' && (d == '1' || d == '3' || d == '4')
                    && (i == 0 || !Character.isLetterOrDigit(m.charAt(i - 1)))
                    && (i + 2 == m.length() || !Character.isLetterOrDigit(m.charAt(i + 2)))) {
                return true;
            }
        }
        return false;
    }
}
