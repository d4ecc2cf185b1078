package io.fastlitellm.cli;

import io.fastlitellm.tokenizer.Encoding;
import io.fastlitellm.tokenizer.Encodings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fast-litellm tokens count|encode|decode (--encoding E | --model M) [FILE]}: tiktoken's
 * token ids for a file or stdin. {@code count} prints one integer, {@code encode} the ids
 * separated by single spaces, {@code decode} reads ids and prints the text (exactly, with no
 * newline added, so {@code encode | decode} gives the input back).
 */
@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = "Count, encode or decode tokens exactly as OpenAI's tiktoken does.",
        subcommands = {TokensCommand.Count.class, TokensCommand.Encode.class, TokensCommand.Decode.class})
public final class TokensCommand implements Runnable {

    final InputStream in;
    final PrintStream out;
    final PrintStream err;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public TokensCommand() {
        this(System.in, System.out, System.err);
    }

    TokensCommand(InputStream in, OutputStream out, OutputStream err) {
        this.in = in;
        this.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        this.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    }

    @Override
    public void run() {
        spec.commandLine().usage(out);
    }

    /** Options every subcommand takes: which encoding, and where the input is. */
    abstract static class Sub implements Callable<Integer> {
        @CommandLine.ParentCommand
        TokensCommand parent;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Which which;

        @Parameters(arity = "0..1", paramLabel = "FILE", description = "Input file (default: stdin).")
        Path file;

        static final class Which {
            @Option(names = {"-e", "--encoding"}, paramLabel = "E",
                    description = "r50k_base, p50k_base, p50k_edit, cl100k_base or o200k_base.")
            String encoding;

            @Option(names = {"-m", "--model"}, paramLabel = "M", description = "A model name, e.g. gpt-4o (unknown models: cl100k_base).")
            String model;
        }

        @Override
        public Integer call() {
            try {
                Encoding enc = which.encoding != null ? Encodings.get(which.encoding) : Encodings.forModel(which.model);
                byte[] input;
                try {
                    input = file == null ? parent.in.readAllBytes() : Files.readAllBytes(file);
                } catch (NoSuchFileException e) {
                    throw new IllegalArgumentException("FILE: " + file + " does not exist (expected: a readable file, or no FILE for stdin)");
                }
                run(enc, input, parent.out);
                parent.out.flush();
                return 0;
            } catch (IllegalArgumentException | IOException e) {
                parent.err.println("tokens: " + e.getMessage());
                return 1;
            }
        }

        abstract void run(Encoding enc, byte[] input, PrintStream out);

        static String text(byte[] input) {
            return new String(input, StandardCharsets.UTF_8);
        }
    }

    @Command(name = "count", mixinStandardHelpOptions = true, description = "Print the number of tokens.")
    static final class Count extends Sub {
        @Override
        void run(Encoding enc, byte[] input, PrintStream out) {
            out.println(enc.countTokens(text(input)));
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true, description = "Print the token ids, separated by single spaces.")
    static final class Encode extends Sub {
        @Option(names = "--allow-special", description = "Encode special tokens' text (e.g. <|endoftext|>) as their ids instead of as text.")
        boolean allowSpecial;

        @Override
        void run(Encoding enc, byte[] input, PrintStream out) {
            String text = text(input);
            int[] ids = allowSpecial ? enc.encode(text, enc.specialTokens().keySet()) : enc.encodeOrdinary(text);
            StringBuilder b = new StringBuilder(ids.length * 6);
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) b.append(' ');
                b.append(ids[i]);
            }
            out.println(b);
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Read token ids (separated by spaces, commas or newlines) and print their text.")
    static final class Decode extends Sub {
        @Override
        void run(Encoding enc, byte[] input, PrintStream out) {
            String[] words = text(input).trim().split("[\\s,]+");
            int[] ids = new int[words.length];
            int n = 0;
            for (String w : words) {
                if (w.isEmpty()) continue;
                try {
                    ids[n++] = Integer.parseInt(w);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("input: '" + w + "' is not a token id (expected: integers separated by spaces)");
                }
            }
            byte[] bytes = enc.decodeBytes(Arrays.copyOf(ids, n));
            // The text, as tiktoken's decode gives it: invalid UTF-8 becomes U+FFFD.
            out.print(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
