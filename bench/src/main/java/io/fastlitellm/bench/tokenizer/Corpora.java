package io.fastlitellm.bench.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The benchmark's documents: seeded, so every run and every implementation sees the same text,
 * cut into slices of {@link #SLICE} characters. Four kinds, as issue 3 asks: English prose, source
 * code, multilingual prose, and adversarial text (long runs of one letter, of spaces, of one CJK
 * character, and emoji soup: the inputs that make naive BPE quadratic).
 */
public final class Corpora {

    public static final int SLICE = 8192;
    public static final List<String> KINDS = List.of("prose", "code", "multilingual", "adversarial");

    private static final String[] WORDS = ("the of and to a in is it you that he was for on are with as I his they be at one "
            + "have this from or had by hot word but what some we can out other were all there when up use your how said an "
            + "each she which do their time if will way about many then them write would like so these her long make thing see "
            + "him two has look more day could go come did number sound no most people my over know water than call first who "
            + "may down side been now find any new work part take get place made live where after back little only round man "
            + "year came show every good me give our under name very through just form sentence great think say help low line "
            + "differ turn cause much mean before move right boy old too same tell does set three want air well also play small "
            + "end put home read hand port large spell add even land here must big high such follow act why ask men change went "
            + "light kind off need house picture try us again animal point mother world near build self earth father head stand "
            + "own page should country found answer school grow study still learn plant cover food sun four between state keep "
            + "eye never last let thought city tree cross farm hard start might story saw far sea draw left late run don't "
            + "while press close night real life few north open seem together next white children begin got walk example ease "
            + "paper group always music those both mark often letter until mile river car feet care second book carry took "
            + "science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main "
            + "enough plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose "
            + "leave song measure door product black short numeral class wind question happen complete ship area half rock "
            + "order fire south problem piece told knew pass since top whole king space heard best hour better true during "
            + "hundred five remember step early hold west ground interest reach fast verb sing listen six table travel less "
            + "morning ten simple several vowel toward war lay against pattern slow center love person money serve appear road "
            + "map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait "
            + "plan figure star box noun field rest correct able pound done beauty drive stood contain front teach week final "
            + "gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch "
            + "multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy test "
            + "record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss "
            + "brought heat snow tire bring yes distant fill east paint language among").split(" ");

    private static final String[] MULTILINGUAL = {
        "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。寒来暑往，秋收冬藏。",
        "我们今天下午去公园散步吧，天气预报说不会下雨。这个项目的进展比预期要快得多。",
        "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。",
        "東京の天気は晴れのち曇り、最高気温は二十五度の予想です。カタカナとひらがなを混ぜて書きます。",
        "한국어 문장입니다. 오늘 회의는 오후 세 시에 시작합니다. 토큰화가 잘 되나요?",
        "Съешь же ещё этих мягких французских булок, да выпей чаю. Москва — столица России.",
        "Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива по-своему.",
        "مرحبا بالعالم، هذه جملة عربية للاختبار. اللغة العربية من أكثر اللغات انتشارا في العالم.",
        "שלום עולם, זהו משפט בעברית לבדיקה. ירושלים היא עיר עתיקה.",
        "हिन्दी में एक वाक्य। नमस्ते दुनिया, क्या हाल है? भारत एक विशाल देश है।",
        "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ วันนี้อากาศดีมาก",
        "Ελληνικά: Γειά σου Κόσμε! Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "Tiếng Việt có dấu: Xin chào thế giới, đây là một câu thử nghiệm.",
        "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. Straße, Größe, Äpfel.",
        "El veloz murciélago hindú comía feliz cardillo y kiwi. ¿Dónde está la biblioteca?",
        "Le cœur a ses raisons que la raison ne connaît point. Où est la gare, s'il vous plaît ?",
        "Türkçe: Pijamalı hasta yağız şoföre çabucak güvendi. İstanbul çok güzel.",
        "Polski: Zażółć gęślą jaźń. Łódź jest dużym miastem w Polsce.",
    };

    private static final String[] EMOJI = {"😀", "😂", "🥲", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "🇯🇵", "❤️", "🔥", "✨", "🎉",
        "🤖", "🧑🏿‍💻", "💯", "🙏", "🚀", "🌍", "🍕", "⚽"};

    private Corpora() {
    }

    /** {@code count} slices of one kind. */
    public static List<String> slices(String kind, int count) {
        String text = switch (kind) {
            case "prose" -> prose(new SplittableRandom(1), SLICE * count);
            case "code" -> code(new SplittableRandom(2), SLICE * count);
            case "multilingual" -> multilingual(new SplittableRandom(3), SLICE * count);
            case "adversarial" -> adversarial(new SplittableRandom(4), count);
            default -> throw new IllegalArgumentException("kind: '" + kind + "' (expected one of " + KINDS + ")");
        };
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int from = i * SLICE;
            int to = Math.min(text.length(), from + SLICE);
            // Never cut a surrogate pair in half: the slice would hold a lone surrogate.
            if (to < text.length() && Character.isLowSurrogate(text.charAt(to))) to--;
            if (from > 0 && Character.isLowSurrogate(text.charAt(from))) from++;
            out.add(text.substring(from, to));
        }
        return out;
    }

    public static long utf8Bytes(List<String> docs) {
        long n = 0;
        for (String d : docs) n += d.getBytes(StandardCharsets.UTF_8).length;
        return n;
    }

    /** A Zipf-like pick: low indices (frequent words) far more often. */
    private static String word(SplittableRandom r) {
        double u = r.nextDouble();
        return WORDS[(int) (WORDS.length * u * u * u)];
    }

    static String prose(SplittableRandom r, int chars) {
        StringBuilder b = new StringBuilder(chars + 200);
        while (b.length() < chars) {
            int words = 6 + r.nextInt(18);
            for (int i = 0; i < words; i++) {
                String w = word(r);
                if (i == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                b.append(w);
                if (r.nextInt(12) == 0 && i < words - 1) b.append(',');
                if (r.nextInt(40) == 0) b.append(' ').append(1 + r.nextInt(2030));
                b.append(i == words - 1 ? "" : " ");
            }
            b.append(r.nextInt(10) == 0 ? "?" : ".");
            b.append(r.nextInt(6) == 0 ? "\n\n" : " ");
        }
        return b.toString();
    }

    static String code(SplittableRandom r, int chars) {
        StringBuilder b = new StringBuilder(chars + 400);
        while (b.length() < chars) {
            String cls = cap(word(r)) + cap(word(r));
            b.append("/** ").append(cap(word(r))).append(' ').append(word(r)).append(' ').append(word(r)).append(". */\n");
            b.append("public final class ").append(cls).append(" implements Comparable<").append(cls).append("> {\n");
            for (int f = 0; f < 3; f++) {
                b.append("    private final ").append(r.nextBoolean() ? "int " : "String ").append(word(r)).append(cap(word(r)))
                        .append(" = ").append(r.nextBoolean() ? Integer.toString(r.nextInt(100000)) : "\"" + word(r) + "\"").append(";\n");
            }
            for (int m = 0; m < 3; m++) {
                String name = word(r) + cap(word(r));
                b.append("\n    @Override\n    public int ").append(name).append("(int ").append(word(r)).append(", String[] args) {\n");
                b.append("        for (int i = 0; i < args.length; i++) {\n");
                b.append("            if (args[i].equals(\"").append(word(r)).append("\") && i % ").append(2 + r.nextInt(7))
                        .append(" == 0) {\n");
                b.append("                return Math.max(i, ").append(name).append(".hashCode() >>> ").append(r.nextInt(31)).append(");\n");
                b.append("            }\n        }\n        // ").append(word(r)).append(' ').append(word(r)).append("\n");
                b.append("        return -1;\n    }\n");
            }
            b.append("}\n\n");
            b.append("def ").append(word(r)).append('_').append(word(r)).append("(self, x: int = 0) -> dict:\n");
            b.append("    \"\"\"").append(cap(word(r))).append(' ').append(word(r)).append(".\"\"\"\n");
            b.append("    return {\"").append(word(r)).append("\": x * ").append(r.nextInt(100)).append(", 'ok': True}\n\n");
        }
        return b.toString();
    }

    private static String cap(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1).replace("'", "");
    }

    static String multilingual(SplittableRandom r, int chars) {
        StringBuilder b = new StringBuilder(chars + 200);
        while (b.length() < chars) {
            b.append(MULTILINGUAL[r.nextInt(MULTILINGUAL.length)]).append(r.nextInt(5) == 0 ? "\n" : " ");
        }
        return b.toString();
    }

    /** Cycles through the four adversarial shapes, one per slice. */
    static String adversarial(SplittableRandom r, int slices) {
        StringBuilder b = new StringBuilder(slices * SLICE);
        for (int i = 0; i < slices; i++) {
            switch (i % 4) {
                case 0 -> b.append("a".repeat(SLICE));
                case 1 -> b.append(" ".repeat(SLICE));
                case 2 -> b.append("中".repeat(SLICE));
                default -> {
                    StringBuilder soup = new StringBuilder(SLICE + 16);
                    while (soup.length() < SLICE) soup.append(EMOJI[r.nextInt(EMOJI.length)]);
                    soup.setLength(SLICE);
                    if (Character.isHighSurrogate(soup.charAt(SLICE - 1))) soup.setCharAt(SLICE - 1, '!');
                    b.append(soup);
                }
            }
        }
        return b.toString();
    }
}
