package io.spherekit.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The checks every SphereKit command must pass, for the tests of the module that owns it: {@code --version}
 * prints {@code spherekit <Cli.VERSION>} and exits 0; a usage error exits 2 with {@code error: <message>} as the
 * first line of the error stream, the usage text after it; a failure exits 1 with {@code error: <message>} as the
 * first line and no usage text.
 */
public final class CliConventions {

    /** A command's in-process entry point, e.g. {@code RuntimeMain::run}. */
    @FunctionalInterface
    public interface Entry {
        int run(String[] args, PrintStream out, PrintStream err);
    }

    /** Exit code and what the command printed. */
    public record Run(int code, String out, String err) {
        /** The first line of the error stream. */
        public String firstErrLine() {
            int nl = err.indexOf('\n');
            return nl < 0 ? err : err.substring(0, nl);
        }
    }

    private CliConventions() {
    }

    /** Runs the entry point with captured streams. */
    public static Run run(Entry entry, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = entry.run(args, o, e);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code <prefix...> --version} prints exactly {@code spherekit <Cli.VERSION>} on stdout and exits 0. */
    public static void assertVersion(Entry entry, String... prefix) {
        String[] args = Arrays.copyOf(prefix, prefix.length + 1);
        args[prefix.length] = "--version";
        Run r = run(entry, args);
        String what = String.join(" ", args);
        assertEquals(Cli.OK, r.code(), what + ": " + r.err());
        assertEquals("spherekit " + Cli.VERSION + System.lineSeparator(), r.out(), what);
        assertEquals("", r.err(), what);
    }

    /**
     * The arguments are a usage error: exit 2, the error stream starts with {@code error: } and a first line
     * holding {@code message}, and the usage text ({@code Usage: <command>}) follows.
     *
     * @return the run, for further checks
     */
    public static Run assertUsageError(Entry entry, String command, String message, String... args) {
        Run r = run(entry, args);
        String what = String.join(" ", args);
        assertEquals(Cli.USAGE, r.code(), what + ": " + r.err());
        assertTrue(r.err().startsWith("error: "), what + ": " + r.err());
        assertTrue(r.firstErrLine().contains(message), what + ": " + r.err());
        int usage = r.err().indexOf("Usage: " + command);
        assertTrue(usage > r.firstErrLine().length(), "usage text after the error line: " + r.err());
        return r;
    }

    /**
     * The arguments make the command fail: exit 1, the error stream starts with {@code error: } and a first line
     * holding {@code message}, with no usage text.
     *
     * @return the run, for further checks
     */
    public static Run assertFailure(Entry entry, String message, String... args) {
        Run r = run(entry, args);
        String what = String.join(" ", args);
        assertEquals(Cli.FAILURE, r.code(), what + ": " + r.err());
        assertTrue(r.err().startsWith("error: "), what + ": " + r.err());
        assertTrue(r.firstErrLine().contains(message), what + ": " + r.err());
        assertFalse(r.err().contains("Usage:"), what + ": " + r.err());
        return r;
    }
}
