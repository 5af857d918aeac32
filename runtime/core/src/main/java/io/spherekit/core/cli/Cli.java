package io.spherekit.core.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one implementation of SphereKit's command-line conventions, shared by every command in every module
 * ({@code train}, {@code export-model}, {@code verify}, {@code evaluate}, {@code embed}, {@code gallery},
 * {@code serve}, {@code demo}; see {@link Commands}).
 *
 * <ul>
 *   <li>Exit codes: {@link #OK} 0, {@link #FAILURE} 1 (a model, image, data or IO problem), {@link #USAGE} 2
 *       (bad arguments or option values, whether picocli finds them while parsing or the command finds them in
 *       {@code call()} by throwing {@link ParameterException}).</li>
 *   <li>Errors are printed on the command's own error stream as one line {@code error: <message>}; for usage
 *       errors the usage text follows. {@code --verbose} or {@code -Dspherekit.verbose=true} adds the stack
 *       trace.</li>
 *   <li>{@code --version} prints {@code spherekit <version>}, the version of the Maven project ({@link #VERSION}).</li>
 * </ul>
 */
public final class Cli {

    /** Success. */
    public static final int OK = 0;
    /** A failure while running (model cannot be loaded, unreadable image or data, IO error, failed check). */
    public static final int FAILURE = 1;
    /** Invalid command-line usage. */
    public static final int USAGE = 2;

    /** The SphereKit version, from the POM (filtered into {@code io/spherekit/core/version.properties}). */
    public static final String VERSION = loadVersion();

    private Cli() {
    }

    private static String loadVersion() {
        try (InputStream in = Cli.class.getResourceAsStream("/io/spherekit/core/version.properties")) {
            if (in == null) {
                throw new IllegalStateException("io/spherekit/core/version.properties missing from spherekit-core");
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "").trim();
            if (v.isEmpty() || v.startsWith("${")) {
                throw new IllegalStateException("version.properties was not filtered by the build: '" + v + "'");
            }
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code --version} for every command: {@code spherekit <version>}. */
    public static final class VersionProvider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"spherekit " + VERSION};
        }
    }

    /**
     * A failure that ends the command with the given exit code. The printed message is this exception's
     * message, or its cause's when the message is null.
     */
    public static class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int exitCode;

        /**
         * @param exitCode exit code, {@link #FAILURE} or {@link #USAGE}
         * @param message  one-line message, naming the file or option and the problem
         * @param cause    underlying exception, or null
         */
        public Failure(int exitCode, String message, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }

        /** A {@link #FAILURE} with a message. */
        public Failure(String message) {
            this(FAILURE, message, null);
        }

        /** A {@link #FAILURE} with a message and its cause. */
        public Failure(String message, Throwable cause) {
            this(FAILURE, message, cause);
        }

        /** The exit code this failure ends the command with. */
        public int exitCode() {
            return exitCode;
        }
    }

    /**
     * Builds the command line for {@code command} (a picocli {@code @Command} object) with SphereKit's error
     * handling and exit codes, printing to the given streams (UTF-8, auto-flush).
     *
     * @param command the command object
     * @param out     standard output
     * @param err     standard error (errors, progress)
     * @return the configured command line; {@code execute} returns 0, 1 or 2
     */
    public static CommandLine create(Object command, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(command);
        useVersion(cl);
        cl.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> usageError(ex));
        // A ParameterException thrown by call() never reaches the execution handler: picocli passes it to the
        // parameter exception handler, so option values checked in call() are usage errors like parse errors.
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            PrintWriter w = line.getErr();
            w.println("error: " + message(ex));
            if (verbose(line) || Boolean.getBoolean("spherekit.verbose")) {
                ex.printStackTrace(w);
            }
            w.flush();
            return ex instanceof Failure f ? f.exitCode() : FAILURE;
        });
        cl.setExitCodeExceptionMapper(e -> e instanceof ParameterException ? USAGE
                : e instanceof Failure f ? f.exitCode() : FAILURE);
        return cl;
    }

    /** Whether the command that failed (a subcommand has its own parse result) was given {@code --verbose}. */
    private static boolean verbose(CommandLine line) {
        ParseResult pr = line.getParseResult();
        return pr != null && pr.hasMatchedOption("--verbose");
    }

    /** Every command in the tree answers {@code --version} with {@link #VERSION}. */
    private static void useVersion(CommandLine cl) {
        cl.getCommandSpec().versionProvider(new VersionProvider());
        cl.getSubcommands().values().forEach(Cli::useVersion);
    }

    private static int usageError(ParameterException pe) {
        CommandLine line = pe.getCommandLine();
        PrintWriter w = line.getErr();
        String m = pe.getMessage() == null ? "invalid usage" : pe.getMessage();
        // picocli's own messages sometimes start with "Error: "; print the prefix once
        w.println("error: " + (m.regionMatches(true, 0, "error: ", 0, 7) ? m.substring(7) : m));
        line.usage(w);
        w.flush();
        return USAGE;
    }

    /** The message shown for a failure: the message, else the cause's, else the exception's class name. */
    static String message(Throwable e) {
        Throwable shown = e;
        while (shown.getMessage() == null && shown.getCause() != null) {
            shown = shown.getCause();
        }
        if (e instanceof Failure && e.getMessage() == null && e.getCause() != null) {
            shown = e.getCause();
        }
        return shown.getMessage() != null ? shown.getMessage() : shown.getClass().getSimpleName();
    }

    /**
     * Runs {@code command} with {@code args} and returns its exit code (never calls {@link System#exit}).
     *
     * @return 0 ok, 1 failure, 2 usage error
     */
    public static int run(Object command, String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = create(command, out, err);
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return code;
    }

    /** Runs {@code command} on the process's streams and exits the JVM with its exit code. */
    public static void exit(Object command, String[] args) {
        System.exit(run(command, args, System.out, System.err));
    }
}
