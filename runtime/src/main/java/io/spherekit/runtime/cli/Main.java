package io.spherekit.runtime.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code spherekit} command line: {@code verify}, {@code evaluate}, {@code embed}, {@code gallery build|search}
 * and {@code serve}.
 *
 * <p>Exit codes: {@link #OK} 0, {@link #FAILURE} 1 (a model, image or IO problem), {@link #USAGE} 2 (bad
 * arguments). Errors are printed as one line on stderr; {@code --verbose} adds the stack trace.
 */
@Command(name = "spherekit", mixinStandardHelpOptions = true, version = "spherekit 0.1.0",
        description = "Face verification with ONNX Runtime.",
        subcommands = {VerifyCommand.class, EvaluateCommand.class, EmbedCommand.class, GalleryCommand.class,
            ServeCommand.class})
public final class Main implements Runnable {

    /** Success. */
    public static final int OK = 0;
    /** A failure while running (model cannot be loaded, unreadable image, IO error). */
    public static final int FAILURE = 1;
    /** Invalid command-line usage. */
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: verify, evaluate, embed, gallery or serve");
    }

    /**
     * Builds the command line printing to the given streams (for tests and embedding).
     *
     * @param out standard output
     * @param err standard error (errors, progress)
     */
    public static CommandLine create(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? USAGE : FAILURE);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter w = commandLine.getErr();
            Throwable shown = ex instanceof CliFailure && ex.getCause() != null ? ex.getCause() : ex;
            w.println("error: " + (shown.getMessage() != null ? shown.getMessage() : shown.toString()));
            if (parseResult.hasMatchedOption("--verbose") || Boolean.getBoolean("spherekit.verbose")) {
                ex.printStackTrace(w);
            }
            w.flush();
            return ex instanceof CliFailure f ? f.exitCode : FAILURE;
        });
        return cl;
    }

    /**
     * Runs the command line and returns its exit code (does not call {@link System#exit}).
     *
     * @param args command-line arguments
     * @param out  standard output
     * @param err  standard error
     * @return 0 ok, 1 failure, 2 usage error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = create(out, err);
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return code;
    }

    /** Entry point used by {@code bin/spherekit}. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** A failure carrying its exit code; the message (or cause's message) is printed. */
    static final class CliFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        CliFailure(int exitCode, String message, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }
    }
}
