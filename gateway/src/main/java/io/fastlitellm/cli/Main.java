package io.fastlitellm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fast-litellm} command line: {@code serve}, {@code tokens}, {@code mock-server}, and
 * {@code bench} when the benchmark module is on the class path (it is in the runnable jar).
 */
@Command(name = "fast-litellm", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "LiteLLM's tokenizer, limits, router and OpenAI-compatible gateway for the JVM.",
        subcommands = {ServeCommand.class, TokensCommand.class, MockServerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** The bench module registers its command under this class name; absent from a gateway-only class path. */
    static final String BENCH_COMMAND = "io.fastlitellm.bench.BenchCommand";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The whole command tree, for tests and for embedding. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        try {
            Object bench = Class.forName(BENCH_COMMAND).getDeclaredConstructor().newInstance();
            cl.addSubcommand(bench);
        } catch (ReflectiveOperationException absent) {
            // Only the runnable jar carries the bench module; the library jar works without it.
        }
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Reads the version from one place. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"fast-litellm " + io.fastlitellm.server.Version.VERSION};
        }
    }
}
