package io.fastlitellm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokensCommandTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        TokensCommand tokens = new TokensCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err);
        CommandLine cl = new CommandLine(tokens);
        StringWriter usage = new StringWriter();
        cl.setErr(new PrintWriter(usage, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + usage);
    }

    @Test
    void countPrintsOneInteger() {
        assertThat(run("hello world", "count", "--encoding", "cl100k_base")).isEqualTo(new Run(0, "2\n", ""));
        assertThat(run("hello world", "count", "--model", "gpt-4o").out()).isEqualTo("2\n");
    }

    @Test
    void encodePrintsIdsSeparatedBySingleSpaces() {
        assertThat(run("hello world", "encode", "-e", "cl100k_base").out()).isEqualTo("15339 1917\n");
        assertThat(run("hi <|endoftext|>", "encode", "-e", "cl100k_base", "--allow-special").out()).isEqualTo("6151 220 100257\n");
        assertThat(run("", "encode", "-e", "o200k_base").out()).isEqualTo("\n");
    }

    @Test
    void decodeGivesBackTheEncodedTextExactly(@TempDir Path dir) throws IOException {
        String text = "Grüße, 世界! 👍🏽\r\n\ttabs  and  spaces\n";
        Path file = dir.resolve("in.txt");
        Files.writeString(file, text);
        String ids = run("", "encode", "--model", "gpt-4o", file.toString()).out();
        assertThat(run(ids, "decode", "--model", "gpt-4o").out()).isEqualTo(text);
        assertThat(run("15339, 1917", "decode", "-e", "cl100k_base").out()).isEqualTo("hello world");
    }

    @Test
    void badInputGetsAClearErrorAndAnExitCode() {
        Run unknown = run("x", "count", "--encoding", "cl200k");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("tokens: encoding: 'cl200k' (expected one of [r50k_base");
        Run badId = run("12 abc", "decode", "-e", "cl100k_base");
        assertThat(badId.exit()).isEqualTo(1);
        assertThat(badId.err()).contains("'abc' is not a token id");
        assertThat(run("999999", "decode", "-e", "cl100k_base").err()).contains("ids[0]: 999999 is not a token of cl100k_base");
        assertThat(run("", "count", "-e", "cl100k_base", "/no/such/file").err()).contains("FILE: /no/such/file does not exist");
        Run both = run("x", "count", "--encoding", "cl100k_base", "--model", "gpt-4o");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        Run neither = run("x", "count");
        assertThat(neither.exit()).isEqualTo(2);
        assertThat(neither.err()).contains("Missing required argument");
    }

    @Test
    void isAsubcommandOfTheCli() {
        assertThat(Main.commandLine().getSubcommands()).containsKey("tokens");
    }
}
