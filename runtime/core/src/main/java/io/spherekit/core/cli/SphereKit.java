package io.spherekit.core.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The command root: {@code spherekit --help} lists every command of {@link Commands}, {@code spherekit --version}
 * prints the version, {@code spherekit help COMMAND} points at the command's own help. The commands themselves
 * run in their module's JVM ({@code bin/spherekit} dispatches), with the same {@link Cli} conventions.
 */
@Command(name = "spherekit", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "SphereKit: train SphereFace face-recognition models in DL4J, export them to ONNX, verify "
                + "and identify faces with ONNX Runtime.",
        footerHeading = "%nCommands:%n")
public final class SphereKit implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..2", paramLabel = "COMMAND",
            description = "a command name, or 'help COMMAND' (both print how to get that command's help)")
    List<String> words = new ArrayList<>();

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<String> w = words;
        if (!w.isEmpty() && w.get(0).equals("help")) {
            w = w.subList(1, w.size());
        }
        if (w.isEmpty()) {
            printHelp(out);
            return;
        }
        if (w.size() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "expected one command name, got " + w);
        }
        String command = w.get(0);
        Commands c = Commands.byName(command).orElseThrow(() -> new CommandLine.ParameterException(
                spec.commandLine(), "unknown command '" + command + "'; commands: " + String.join(", ", Commands.names())));
        out.printf(Locale.ROOT, "%s: %s%nRun 'spherekit %s --help' for its options.%n", c.command(), c.summary(), c.command());
    }

    private void printHelp(PrintWriter out) {
        spec.commandLine().usage(out);
    }

    /** The help footer: every command of {@link Commands}, the exit codes and the path conventions. */
    static String[] footer() {
        List<String> lines = new ArrayList<>();
        for (Commands c : Commands.values()) {
            lines.add(String.format(Locale.ROOT, "  %-13s %s", c.command(), c.summary()));
        }
        lines.addAll(List.of("", "Run 'spherekit COMMAND --help' for a command's options.", "",
                "Exit codes (every command): 0 ok, 1 failure (model, image, data or IO problem), 2 usage error.",
                "Relative paths are taken from the folder you run the command in.",
                "LFW is found at --lfw DIR, else $" + LfwLocation.ENV + ", else " + LfwLocation.DEFAULT
                        + " next to the repository root."));
        return lines.toArray(String[]::new);
    }

    /**
     * Runs the root command.
     *
     * @return 0, 1 or 2
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = Cli.create(new SphereKit(), out, err);
        cl.getCommandSpec().usageMessage().width(120).footer(footer());
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return code;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }
}
