package io.fastlitellm.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One line of a golden file written by {@code core/src/test/golden/generate.mjs} with the reference
 * tokenizer. The files hold flat objects of strings and int arrays only, so a tiny reader suffices.
 */
record GoldenCase(String encoding, int line, String kind, String text, int[] ids) {

    static List<GoldenCase> load(String encoding) {
        String path = "/tokenizer/" + encoding + ".jsonl";
        List<GoldenCase> out = new ArrayList<>();
        try (InputStream in = GoldenCase.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException(path + " missing: run generate.mjs");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String l;
            int n = 0;
            while ((l = r.readLine()) != null) {
                n++;
                if (!l.isEmpty()) out.add(parse(encoding, n, l));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static GoldenCase parse(String encoding, int line, String s) {
        Reader p = new Reader(s);
        String kind = null;
        String text = null;
        int[] ids = null;
        p.expect('{');
        while (true) {
            String key = p.string();
            p.expect(':');
            switch (key) {
                case "kind" -> kind = p.string();
                case "text" -> text = p.string();
                case "ids" -> ids = p.ints();
                default -> throw new IllegalArgumentException("line " + line + ": key " + key);
            }
            if (p.peek() == ',') {
                p.expect(',');
                continue;
            }
            p.expect('}');
            break;
        }
        return new GoldenCase(encoding, line, kind, text, ids);
    }

    @Override
    public String toString() {
        String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        return encoding + ":" + line + " " + kind + " " + shown.replace("\n", "\\n").replace("\r", "\\r");
    }

    private static final class Reader {
        private final String s;
        private int i;

        Reader(String s) {
            this.s = s;
        }

        char peek() {
            return s.charAt(i);
        }

        void expect(char c) {
            if (s.charAt(i) != c) throw new IllegalArgumentException("expected " + c + " at " + i + " in " + s);
            i++;
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        int[] ints() {
            expect('[');
            int[] a = new int[16];
            int n = 0;
            while (s.charAt(i) != ']') {
                int start = i;
                while (Character.isDigit(s.charAt(i))) i++;
                if (n == a.length) a = Arrays.copyOf(a, n * 2);
                a[n++] = Integer.parseInt(s.substring(start, i));
                if (s.charAt(i) == ',') i++;
            }
            i++;
            return Arrays.copyOf(a, n);
        }
    }
}
