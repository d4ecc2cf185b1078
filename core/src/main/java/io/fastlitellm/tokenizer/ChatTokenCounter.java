package io.fastlitellm.tokenizer;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Counts a chat request's prompt tokens with LiteLLM's {@code token_counter} semantics, over the
 * plain Java values a JSON parser gives ({@code Map}, {@code List}, {@code String}, {@code Number},
 * {@code Boolean}, {@code null}), so the gateway can pass the parsed request body as it is.
 *
 * <p>What is counted, as in LiteLLM: 3 tokens per message (4, and -1 for a name, for
 * {@code gpt-3.5-turbo-0301}); every string value of a message, {@code role} included, plus 1 when
 * the key is {@code name}; {@code tool_calls} and {@code function_call} by their arguments; content
 * parts (text, images by detail and size, documents, files, Anthropic tool blocks, thinking);
 * 3 tokens priming the reply; tools as LiteLLM's TypeScript-like rendering plus 9 (4 fewer when a
 * system message is present); {@code tool_choice} {@code "none"} 1, an object 7 plus its name.
 *
 * <p>Where it differs from LiteLLM, on purpose: text is counted exactly, not in chunks and not
 * extrapolated from samples beyond LiteLLM's exact-count limit; a high-detail image given by URL
 * is sized by the optional {@link ImageSizer} (core does no network I/O) and otherwise counts as
 * LiteLLM's default 300x300 image; base64 data URLs are sized from their PNG, GIF, JPEG or WebP
 * header as LiteLLM does.
 *
 * <p>Immutable and thread-safe.
 */
public final class ChatTokenCounter {

    /** Sizes an image URL for high-detail counting; returns {width, height} or null when unknown. */
    @FunctionalInterface
    public interface ImageSizer {
        int[] size(String url);
    }

    static final int IMAGE_BASE_TOKENS = 85;
    static final int DEFAULT_IMAGE_WIDTH = 300;
    static final int DEFAULT_IMAGE_HEIGHT = 300;
    private static final int MAX_SHORT_SIDE = 768;
    private static final int MAX_LONG_SIDE = 2000;
    private static final int TILE = 512;

    private final Encoding encoding;
    private final int tokensPerMessage;
    private final int tokensPerName;
    private final ImageSizer imageSizer;

    private ChatTokenCounter(Encoding encoding, int tokensPerMessage, int tokensPerName, ImageSizer imageSizer) {
        this.encoding = Objects.requireNonNull(encoding, "encoding");
        this.tokensPerMessage = tokensPerMessage;
        this.tokensPerName = tokensPerName;
        this.imageSizer = imageSizer;
    }

    /** The counter LiteLLM would use for this model: its encoding and its per-message constants. */
    public static ChatTokenCounter forModel(String model) {
        boolean legacy = model != null && model.trim().replace("gpt-35", "gpt-3.5").endsWith("gpt-3.5-turbo-0301");
        return new ChatTokenCounter(Encodings.forModel(model), legacy ? 4 : 3, legacy ? -1 : 1, null);
    }

    /** A counter over an encoding with LiteLLM's default constants (3 per message, 1 per name). */
    public static ChatTokenCounter of(Encoding encoding) {
        return new ChatTokenCounter(encoding, 3, 1, null);
    }

    /** The same counter, sizing high-detail image URLs with {@code sizer}. */
    public ChatTokenCounter withImageSizer(ImageSizer sizer) {
        return new ChatTokenCounter(encoding, tokensPerMessage, tokensPerName, Objects.requireNonNull(sizer, "sizer"));
    }

    public Encoding encoding() {
        return encoding;
    }

    /** Tokens of plain text (LiteLLM's {@code token_counter(text=...)}). */
    public int countText(String text) {
        return encoding.countTokens(text);
    }

    /** {@link #count(List, List, Object)} without tools. */
    public int count(List<? extends Map<String, ?>> messages) {
        return count(messages, null, null);
    }

    /**
     * Prompt tokens of a chat request.
     *
     * @param messages the request's {@code messages}
     * @param tools the request's {@code tools}, or null
     * @param toolChoice the request's {@code tool_choice} (a String or a Map), or null
     * @throws IllegalArgumentException for a shape LiteLLM also refuses, naming where it is
     */
    public int count(List<? extends Map<String, ?>> messages, List<?> tools, Object toolChoice) {
        Objects.requireNonNull(messages, "messages");
        int n = 0;
        boolean system = false;
        for (int i = 0; i < messages.size(); i++) {
            Map<String, ?> message = messages.get(i);
            if (message == null) throw new IllegalArgumentException("messages[" + i + "]: null (expected: an object)");
            n += countMessage(message, "messages[" + i + "]");
            if ("system".equals(message.get("role"))) system = true;
        }
        return n + countExtra(tools, toolChoice, system);
    }

    private int countMessage(Map<String, ?> message, String where) {
        int n = tokensPerMessage;
        for (Map.Entry<String, ?> e : message.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            if (value == null) continue;
            if (key.equals("tool_calls")) {
                if (!(value instanceof List<?> calls)) {
                    throw new IllegalArgumentException(where + ".tool_calls: " + typeName(value) + " (expected: a list)");
                }
                for (int i = 0; i < calls.size(); i++) {
                    if (!(calls.get(i) instanceof Map<?, ?> call) || !(call.get("function") instanceof Map<?, ?> fn)) {
                        throw new IllegalArgumentException(where + ".tool_calls[" + i + "]: no function (expected: an object with a 'function' object)");
                    }
                    n += countStr(getOr(fn, "arguments", ""));
                }
            } else if (key.equals("function_call")) {
                if (!(value instanceof Map<?, ?> fn)) {
                    throw new IllegalArgumentException(where + ".function_call: " + typeName(value) + " (expected: an object)");
                }
                n += countStr(getOr(fn, "arguments", ""));
            } else if (value instanceof String s) {
                n += encoding.countTokens(s);
                if (key.equals("name")) n += tokensPerName;
            } else if (key.equals("content") && value instanceof List<?> parts) {
                n += countContent(parts, where + ".content");
            }
            // Other keys and value types are skipped, as LiteLLM skips them.
        }
        return n;
    }

    private int countContent(List<?> parts, String where) {
        int n = 0;
        for (int i = 0; i < parts.size(); i++) {
            Object part = parts.get(i);
            String at = where + "[" + i + "]";
            if (part instanceof String s) {
                n += encoding.countTokens(s);
                continue;
            }
            if (!(part instanceof Map<?, ?> c)) {
                throw new IllegalArgumentException(at + ": " + typeName(part) + " (expected: a string or an object with a 'type')");
            }
            Object type = c.get("type");
            switch (type instanceof String t ? t : "") {
                case "text" -> n += countStr(getOr(c, "text", ""));
                case "image_url" -> n += imageUrlTokens(c.get("image_url"), at + ".image_url");
                case "image" -> n += IMAGE_BASE_TOKENS; // Anthropic image: LiteLLM counts it at "auto" detail
                case "document" -> n += documentTokens(c, at);
                case "file" -> n += fileTokens(c.get("file"));
                case "tool_use", "tool_result" -> n += anthropicToolTokens(c, at);
                case "thinking", "redacted_thinking" -> {
                    String thinking = PythonText.str(getOr(c, "thinking", ""));
                    if (!thinking.isEmpty()) n += encoding.countTokens(thinking);
                }
                case "tool_reference" -> {
                    Object name = c.get("tool_name");
                    String s = name == null ? "" : PythonText.str(name);
                    if (!s.isEmpty()) n += encoding.countTokens(s);
                }
                default -> throw new IllegalArgumentException(at + ".type: " + PythonText.repr(type)
                        + " (expected one of text, image_url, image, document, file, tool_use, tool_result, thinking,"
                        + " redacted_thinking, tool_reference)");
            }
        }
        return n;
    }

    private int documentTokens(Map<?, ?> document, String at) {
        int n = 0;
        for (String k : new String[] {"title", "context"}) {
            Object v = document.get(k);
            if (PythonText.truthy(v)) n += countStr(v);
        }
        if (!(document.get("source") instanceof Map<?, ?> source)) {
            throw new IllegalArgumentException(at + ".source: missing (expected: an object with a 'type')");
        }
        Object type = source.get("type");
        if ("text".equals(type)) return n + countStr(getOr(source, "data", ""));
        if ("content".equals(type)) {
            Object content = source.get("content");
            if (content instanceof String s) return n + encoding.countTokens(s);
            if (content instanceof List<?> l) return n + countContent(l, at + ".source.content");
            throw new IllegalArgumentException(at + ".source.content: " + typeName(content) + " (expected: a string or a list)");
        }
        return n + IMAGE_BASE_TOKENS;
    }

    private int fileTokens(Object file) {
        if (!(file instanceof Map<?, ?> f)) return 0;
        int n = 0;
        if (f.get("filename") instanceof String name && !name.isEmpty()) n += encoding.countTokens(name);
        if (f.get("file_data") instanceof String data && !data.isEmpty()) n += IMAGE_BASE_TOKENS;
        return n;
    }

    private int anthropicToolTokens(Map<?, ?> block, String at) {
        // LiteLLM counts the TypedDict's fields minus identifiers: tool_use has name and input,
        // tool_result has content.
        String[] fields = "tool_use".equals(block.get("type")) ? new String[] {"name", "input"} : new String[] {"content"};
        int n = 0;
        for (String field : fields) {
            Object v = block.get(field);
            if (v == null) continue;
            if (v instanceof String s) n += encoding.countTokens(s);
            else if (v instanceof List<?> l) n += countContent(l, at + "." + field);
            else if (v instanceof Map<?, ?>) n += countStr(v);
        }
        return n;
    }

    private int imageUrlTokens(Object imageUrl, String at) {
        if (imageUrl instanceof String url) {
            if (url.isBlank()) throw new IllegalArgumentException(at + ": empty (expected: a URL)");
            return IMAGE_BASE_TOKENS;
        }
        if (!(imageUrl instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(at + ": " + typeName(imageUrl) + " (expected: a URL string or an object with 'url')");
        }
        Object detail = getOr(m, "detail", "auto");
        if (!"low".equals(detail) && !"high".equals(detail) && !"auto".equals(detail)) {
            throw new IllegalArgumentException(at + ".detail: " + PythonText.repr(detail) + " (expected: 'low', 'high' or 'auto')");
        }
        Object url = m.get("url");
        if (!PythonText.truthy(url)) throw new IllegalArgumentException(at + ".url: missing (expected: a URL)");
        if (!"high".equals(detail)) return IMAGE_BASE_TOKENS;
        int[] size = imageSize(PythonText.str(url));
        return highDetailTokens(size[0], size[1]);
    }

    private int[] imageSize(String url) {
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            int[] fromData = ImageHeaders.size(url);
            if (fromData != null) return fromData;
        } else if (imageSizer != null) {
            int[] s = imageSizer.size(url);
            if (s != null && s.length == 2 && s[0] > 0 && s[1] > 0) return s;
        }
        return new int[] {DEFAULT_IMAGE_WIDTH, DEFAULT_IMAGE_HEIGHT};
    }

    /** 85 plus 170 per 512-pixel tile after LiteLLM's high-detail resize. */
    static int highDetailTokens(int width, int height) {
        int w = width;
        int h = height;
        if (!(width <= MAX_SHORT_SIDE && height <= MAX_SHORT_SIDE)) {
            double aspect = (double) Math.max(width, height) / Math.min(width, height);
            if (width <= height) {
                w = MAX_SHORT_SIDE;
                h = (int) (w * aspect);
                if (h > MAX_LONG_SIDE) {
                    h = MAX_LONG_SIDE;
                    w = (int) (h / aspect);
                }
            } else {
                h = MAX_SHORT_SIDE;
                w = (int) (h * aspect);
                if (w > MAX_LONG_SIDE) {
                    w = MAX_LONG_SIDE;
                    h = (int) (w / aspect);
                }
            }
        }
        int tiles = ((w + TILE - 1) / TILE) * ((h + TILE - 1) / TILE);
        return IMAGE_BASE_TOKENS + 2 * IMAGE_BASE_TOKENS * tiles;
    }

    private int countExtra(List<?> tools, Object toolChoice, boolean system) {
        int n = 3; // every reply is primed with <|start|>assistant<|message|>
        if (tools != null && !tools.isEmpty()) {
            n += encoding.countTokens(ToolDefinitions.format(tools)) + 9;
            if (system) n -= 4;
        }
        if ("none".equals(toolChoice)) {
            n += 1;
        } else if (toolChoice instanceof Map<?, ?> choice) {
            if (!(choice.get("function") instanceof Map<?, ?> fn) || !fn.containsKey("name")) {
                throw new IllegalArgumentException("tool_choice.function.name: missing (expected: {\"type\": \"function\", \"function\": {\"name\": ...}})");
            }
            n += 7 + countStr(fn.get("name"));
        }
        return n;
    }

    private int countStr(Object v) {
        return encoding.countTokens(PythonText.str(v));
    }

    private static Object getOr(Map<?, ?> m, String key, Object fallback) {
        return m.containsKey(key) ? m.get(key) : fallback;
    }

    static String typeName(Object v) {
        return v == null ? "null" : v instanceof Map ? "an object" : v instanceof List ? "a list"
                : v instanceof String ? "a string" : v.getClass().getSimpleName();
    }

    /** Reads width and height from a base64 data URL's image header, as LiteLLM does. */
    static final class ImageHeaders {
        private ImageHeaders() {
        }

        static int[] size(String dataUrl) {
            int comma = dataUrl.indexOf(',');
            if (comma < 0) return null;
            byte[] d;
            try {
                d = Base64.getMimeDecoder().decode(dataUrl.substring(comma + 1));
            } catch (IllegalArgumentException e) {
                return null;
            }
            if (d.length >= 24 && (d[0] & 0xFF) == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G') {
                return new int[] {be32(d, 16), be32(d, 20)};
            }
            if (d.length >= 10 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8' && d[5] == 'a') {
                return new int[] {le16(d, 6), le16(d, 8)};
            }
            if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) return jpeg(d);
            if (d.length >= 30 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F' && d[8] == 'W' && d[9] == 'E') {
                String chunk = new String(d, 12, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
                switch (chunk) {
                    case "VP8X" -> {
                        return new int[] {le24(d, 24) + 1, le24(d, 27) + 1};
                    }
                    case "VP8 " -> {
                        return new int[] {le16(d, 26) & 0x3FFF, le16(d, 28) & 0x3FFF};
                    }
                    case "VP8L" -> {
                        if (d.length < 25) return null;
                        long bits = (d[21] & 0xFFL) | (d[22] & 0xFFL) << 8 | (d[23] & 0xFFL) << 16 | (d[24] & 0xFFL) << 24;
                        return new int[] {(int) (bits & 0x3FFF) + 1, (int) ((bits >> 14) & 0x3FFF) + 1};
                    }
                    default -> {
                        return null;
                    }
                }
            }
            return null;
        }

        private static int[] jpeg(byte[] d) {
            int i = 2;
            while (i + 9 < d.length) {
                while (i < d.length && (d[i] & 0xFF) == 0xFF) i++;
                if (i >= d.length) return null;
                int type = d[i] & 0xFF;
                int len = (d[i + 1] & 0xFF) << 8 | (d[i + 2] & 0xFF);
                if (type >= 0xC0 && type <= 0xCF && type != 0xC4 && type != 0xC8 && type != 0xCC) {
                    if (i + 7 >= d.length) return null;
                    int h = (d[i + 4] & 0xFF) << 8 | (d[i + 5] & 0xFF);
                    int w = (d[i + 6] & 0xFF) << 8 | (d[i + 7] & 0xFF);
                    return new int[] {w, h};
                }
                i += 1 + len;
            }
            return null;
        }

        private static int be32(byte[] d, int i) {
            return (d[i] & 0xFF) << 24 | (d[i + 1] & 0xFF) << 16 | (d[i + 2] & 0xFF) << 8 | (d[i + 3] & 0xFF);
        }

        private static int le16(byte[] d, int i) {
            return (d[i] & 0xFF) | (d[i + 1] & 0xFF) << 8;
        }

        private static int le24(byte[] d, int i) {
            return (d[i] & 0xFF) | (d[i + 1] & 0xFF) << 8 | (d[i + 2] & 0xFF) << 16;
        }
    }

    /** LiteLLM's rendering of tool definitions (its {@code _format_function_definitions}). */
    static final class ToolDefinitions {
        private ToolDefinitions() {
        }

        static String format(List<?> tools) {
            List<String> lines = new ArrayList<>();
            lines.add("namespace functions {");
            lines.add("");
            for (Object tool : tools) {
                if (!(tool instanceof Map<?, ?> t)) continue;
                for (Map<?, ?> fn : definitions(t)) single(fn, lines);
            }
            lines.add("} // namespace functions");
            return String.join("\n", lines);
        }

        private static List<Map<?, ?>> definitions(Map<?, ?> tool) {
            if (tool.get("function") instanceof Map<?, ?> fn) return List.of(fn);
            Object decls = PythonText.truthy(tool.get("function_declarations")) ? tool.get("function_declarations")
                    : tool.get("functionDeclarations");
            if (decls instanceof List<?> l) {
                List<Map<?, ?>> out = new ArrayList<>();
                for (Object d : l) if (d instanceof Map<?, ?> m) out.add(m);
                return out;
            }
            Object params = PythonText.truthy(tool.get("input_schema")) ? tool.get("input_schema") : tool.get("parameters");
            Map<String, Object> fn = new java.util.LinkedHashMap<>();
            fn.put("name", tool.get("name"));
            fn.put("description", tool.get("description"));
            fn.put("parameters", params instanceof Map<?, ?> ? params : Map.of());
            return List.of(fn);
        }

        private static void single(Map<?, ?> fn, List<String> lines) {
            Object name = fn.get("name");
            if (!PythonText.truthy(name)) return;
            Object description = fn.get("description");
            Object pv = fn.get("parameters");
            Map<?, ?> params = pv instanceof Map<?, ?> m ? m : Map.of();
            if (PythonText.truthy(description)) lines.add("// " + PythonText.str(description));
            if (params.get("properties") instanceof Map<?, ?> props && !props.isEmpty()) {
                lines.add("type " + PythonText.str(name) + " = (_: {");
                lines.add(objectParameters(params, 0));
                lines.add("}) => any;");
            } else {
                lines.add("type " + PythonText.str(name) + " = () => any;");
            }
            lines.add("");
        }

        private static String objectParameters(Map<?, ?> params, int indent) {
            if (!(params.get("properties") instanceof Map<?, ?> props) || props.isEmpty()) return "";
            Object required = params.containsKey("required") ? params.get("required") : List.of();
            List<String> lines = new ArrayList<>();
            for (Map.Entry<?, ?> e : props.entrySet()) {
                Map<?, ?> p = e.getValue() instanceof Map<?, ?> m ? m : Map.of();
                Object description = p.get("description");
                if (PythonText.truthy(description)) lines.add("// " + PythonText.str(description));
                String key = PythonText.str(e.getKey());
                boolean isRequired = PythonText.truthy(required) && required instanceof List<?> r && r.contains(e.getKey());
                lines.add(key + (isRequired ? "" : "?") + ": " + type(p, indent) + ",");
            }
            String pad = " ".repeat(Math.max(0, indent));
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) b.append('\n');
                b.append(pad).append(lines.get(i));
            }
            return b.toString();
        }

        private static String type(Map<?, ?> p, int indent) {
            Object type = p.get("type");
            if ("string".equals(type) || "integer".equals(type) || "number".equals(type)) {
                if (p.containsKey("enum") && p.get("enum") instanceof List<?> values) {
                    List<String> quoted = new ArrayList<>();
                    for (Object v : values) quoted.add("\"" + PythonText.str(v) + "\"");
                    return String.join(" | ", quoted);
                }
                return "string".equals(type) ? "string" : "number";
            }
            if ("array".equals(type)) {
                if (!(p.get("items") instanceof Map<?, ?> items)) {
                    throw new IllegalArgumentException("tools: an array parameter has no 'items' (expected: an object, as OpenAI requires)");
                }
                return type(items, indent) + "[]";
            }
            if ("object".equals(type)) return "{\n" + objectParameters(p, indent + 2) + "\n}";
            if ("boolean".equals(type)) return "boolean";
            if ("null".equals(type)) return "null";
            return "any";
        }
    }
}
