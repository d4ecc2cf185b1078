// Generates the tokenizer golden files with the reference implementation: the npm package
// `tiktoken` (OpenAI's Rust tiktoken compiled to WebAssembly).
//
//   cd core/src/test/golden && npm install && node generate.mjs
//
// Writes ../resources/tokenizer/<encoding>.jsonl, one JSON object a line, keys in this fixed order
// so the Java test can read them without a JSON library:
//   {"kind":"ordinary","text":"...","ids":[...]}   encode_ordinary(text)
//   {"kind":"special","text":"...","ids":[...]}    encode(text, allowed_special="all")
//   {"kind":"decode","ids":[...],"text":"..."}     TextDecoder (replacement) over decode(ids) bytes
// JavaScript strings are UTF-16 like Java's, so lone surrogates reach the reference exactly as a
// Java String holds them; tiktoken's binding turns them into U+FFFD (TextEncoder), as we must.
import { get_encoding } from "tiktoken";
import { writeFileSync } from "node:fs";

const ENCODINGS = ["r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base"];

// Deterministic PRNG (mulberry32) so a re-run writes identical files.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIXED = [
  "", "a", " ", "hello world", "Hello, World!", "  leading", "trailing  ", "\n", "\r\n", "\r",
  // prose in many scripts
  "The quick brown fox jumps over the lazy dog. It's 12:45 and we've got 3 apples.",
  "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。我们今天去公园散步吧！",
  "日本語のテキストです。カタカナとひらがな、そして漢字ー長音記号。",
  "한국어 문장입니다. 토큰화가 잘 되나요?",
  "Съешь же ещё этих мягких французских булок, да выпей чаю. ПРИВЕТ мир",
  "مرحبا بالعالم، هذه جملة عربية للاختبار ١٢٣٤٥٦٧.",
  "שלום עולם, זהו משפט בעברית לבדיקה.",
  "हिन्दी में एक वाक्य। नमस्ते दुनिया, क्या हाल है?",
  "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ",
  "Ελληνικά: Γειά σου Κόσμε! ΑΒΓΔ αβγδ",
  "Tiếng Việt có dấu: Xin chào thế giới, đây là một câu.",
  "Ǆemal ǅemal ǆemal ᾈᾉ Titlecase ǈubljana",
  // source code
  "def main():\n    for i in range(10):\n        print(f\"{i:03d}\")\n\nif __name__ == '__main__':\n    main()\n",
  "public static void main(String[] args) {\r\n\tSystem.out.println(\"hi\");\r\n}\r\n",
  "#include <stdio.h>\nint main(void){int x=0x1F;x<<=2;return x>=42?0:1;}\n",
  "const re = /^(?:[a-z0-9]+)$/i; // comment\nlet url = 'https://example.com/a/b?c=d&e=f';\n",
  "<div class=\"x\">&nbsp;<a href='/path/to//file'>link</a></div>\n\n\n",
  "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%o%';",
  "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\"}}",
  // emoji and ZWJ sequences
  "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸🇯🇵 ❤️ 🧑🏿‍💻 😀😃😄😁",
  "emoji soup 🤖🤖🤖🎉🎉✨✨✨🔥🔥🔥💯",
  // numbers of every length
  "1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890 12345678901234567890",
  "3.14159 -2.5e-10 1,000,000 0x7FFF 1_000 ٣٤٥ ²³ ½ Ⅻ １２３",
  // contractions in both cases
  "I'm you're he's she'd we'll they've it's can't won't Don't",
  "I'M YOU'RE HE'S SHE'D WE'LL THEY'VE IT'S CAN'T WON'T DON'T",
  "I'm YOU'Re He'S she'D we'Ll tHeY'vE 's 'S 'll 'LL 're 'RE 've 'VE 'm 'M 'd 'D 't 'T",
  "it'ſ KELVIN'K ’s ‘quoted’ 'x 'ss",
  // whitespace of every kind
  "a\tb\u000bc\u000cd\re\nf g\u0085h\u00a0i\u1680j\u2000k\u2001l\u2002m\u2003n\u2004o\u2005p",
  "a\u2006b\u2007c\u2008d\u2009e\u200af\u2028g\u2029h\u202fi\u205fj\u3000k",
  "not space: \u001c\u001d\u001e\u001f\u200b\u180e\ufeff end",
  "x   \n\n   y\t\t\n \r\n\r\n  z   ",
  "   \n",
  "line1\r\nline2\r\n\r\nline3\r\n",
  "word\n\n\n\nword    \t  word",
  "  !!!  ???\n\n///", "a/b//c///d\n/\n", "...\r\n\r\n---\n",
  // lone surrogates (Java and JS strings may hold them)
  "lone high \ud800 here", "lone low \udc00 there", "\ud83d", "\ude00x", "ab\ud83d\ud83dcd", "\udfff\ud800",
  // special-token text
  "<|endoftext|>", "hi <|endoftext|> there", "<|fim_prefix|>a<|fim_middle|>b<|fim_suffix|>c",
  "<|endofprompt|> and <|endoftext", "<|endoftext|><|endoftext|>",
];

// Texts on which the randomized comparison with jtokkit (JtokkitComparisonTest) found a
// disagreement: the reference decides, and they stay here as regression cases.
const REGRESSIONS = [];

function longRuns() {
  return [
    "a".repeat(3000), " ".repeat(3000), "中".repeat(2000), "\n".repeat(500), "1".repeat(1000),
    "!".repeat(1000), "ab".repeat(1500), " a".repeat(1000), "😀".repeat(500), "\t".repeat(300) + "x",
    " ".repeat(200) + "\n" + " ".repeat(200), "é".repeat(1000), "a\u0301".repeat(500),
    "x".repeat(500) + " ".repeat(500) + "y".repeat(500),
  ];
}

// Character pools chosen for the pre-tokenizer's classes: \p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{M}\p{N},
// \s and non-\s punctuation, apostrophes, CR/LF and '/' (o200k), plus surrogates.
const POOLS = [
  "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ſKµßÆæØø", "ǅǈǋǲᾈᾘ", "ʰʲˆˇー々ⁿ",
  "中文字符日本語한국어กขคภาษา", "абвгдАБВГДёЁ", "αβγΑΒΓ", "مرحباשלום", "हिन्दी", "\u0301\u0300\u0308\u093f\u0e31\ufe0f",
  "0123456789", "٠١٢٣٤٥٦٧٨٩²³½Ⅻ１", " ", "  ", "\t", "\n", "\r\n", "\r",
  "\u00a0\u2003\u3000\u0085\u2028\u000b\u000c", "'", "'", "'s", "'T", "'ll", "'RE", "'ve", "'M", "'D",
  ".,;:!?-_()[]{}<>\"#$%&*+=@^`|~", "/", "//", "’‘“”…—–", "😀🎉👍🏽❤️👨‍👩‍👧🇯🇵", "\u200d\u200b\u00ad",
  "\ud800", "\udc00", "\u001f\u001c", "<|endoftext|>",
];

function randomText(r, maxPieces) {
  const n = 1 + Math.floor(r() * maxPieces);
  let s = "";
  for (let i = 0; i < n; i++) {
    const pool = POOLS[Math.floor(r() * POOLS.length)];
    const chars = Array.from(pool);
    const take = r() < 0.3 ? pool : chars[Math.floor(r() * chars.length)];
    const reps = r() < 0.1 ? 1 + Math.floor(r() * 6) : 1;
    s += take.repeat(reps);
  }
  return s;
}

function line(obj) {
  // Fixed key order; JSON.stringify escapes lone surrogates as \uXXXX.
  return JSON.stringify(obj);
}

for (const name of ENCODINGS) {
  const enc = get_encoding(name);
  const r = rng(0x5eed + name.length * 7919 + name.charCodeAt(0));
  const out = [];
  const texts = [...FIXED, ...REGRESSIONS, ...longRuns()];
  for (let i = 0; i < 1200; i++) texts.push(randomText(r, 40));
  for (const text of texts) {
    out.push(line({ kind: "ordinary", text, ids: Array.from(enc.encode_ordinary(text)) }));
  }
  for (const text of FIXED.filter((t) => t.includes("<|"))) {
    out.push(line({ kind: "special", text, ids: Array.from(enc.encode(text, "all")) }));
  }
  // Decoding arbitrary id sequences, including ones that end inside a UTF-8 sequence.
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const vocab = { r50k_base: 50256, p50k_base: 50280, p50k_edit: 50280, cl100k_base: 100256, o200k_base: 199998 }[name];
  for (let i = 0; i < 300; i++) {
    const len = 1 + Math.floor(r() * 8);
    const ids = [];
    for (let j = 0; j < len; j++) ids.push(Math.floor(r() * vocab));
    let bytes;
    try { bytes = enc.decode(Uint32Array.from(ids)); } catch { continue; } // holes in the vocabulary
    out.push(line({ kind: "decode", ids, text: decoder.decode(bytes) }));
  }
  enc.free();
  writeFileSync(new URL(`../resources/tokenizer/${name}.jsonl`, import.meta.url), out.join("\n") + "\n");
  console.log(name, out.length, "cases");
}
