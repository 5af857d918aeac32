package io.spherekit.core.cli;

import static io.spherekit.core.cli.CliConventions.assertFailure;
import static io.spherekit.core.cli.CliConventions.assertUsageError;
import static io.spherekit.core.cli.CliConventions.assertVersion;
import static io.spherekit.core.cli.CliConventions.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.cli.CliConventions.Run;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The command root ({@link SphereKit}) and the conventions {@link Cli} gives every command. */
class CliTest {

    /** A command that fails the ways a real one does, to check {@link Cli}'s mapping. */
    @Command(name = "probe", mixinStandardHelpOptions = true)
    static final class Probe implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--n", defaultValue = "1")
        int n;

        @Option(names = "--io")
        boolean io;

        @Option(names = "--verbose")
        boolean verbose;

        @Override
        public Integer call() throws IOException {
            if (n < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--n must be >= 1, got " + n);
            }
            if (io) {
                throw new IOException("cannot read /nowhere/file.bin: no such file");
            }
            throw new Cli.Failure("probe failed on purpose");
        }
    }

    @Command(name = "outer", subcommands = Probe.class)
    static final class Outer implements Runnable {
        @Override
        public void run() {
        }
    }

    private static int probe(String[] args, PrintStream out, PrintStream err) {
        return Cli.run(new Probe(), args, out, err);
    }

    @Test
    void versionIsTheProjectVersionOfThePom() throws IOException {
        String pom = Files.readString(Path.of(System.getProperty("spherekit.root"), "pom.xml"));
        Matcher m = Pattern.compile("<artifactId>spherekit-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "root pom.xml names its version");
        assertEquals(m.group(1), Cli.VERSION);
    }

    @Test
    void rootVersionHelpAndUsageError() {
        assertVersion(SphereKit::run);
        Run help = run(SphereKit::run, "--help");
        assertEquals(Cli.OK, help.code());
        for (Commands c : Commands.values()) {
            assertTrue(help.out().contains("  " + c.command() + " ") && help.out().contains(c.summary()),
                    c.command() + " missing from --help: " + help.out());
        }
        assertTrue(help.out().contains("Exit codes (every command): 0 ok, 1 failure"), help.out());
        assertEquals(help.out(), run(SphereKit::run).out(), "no arguments print the help");
        assertUsageError(SphereKit::run, "spherekit", "unknown command 'frobnicate'; commands: train, export-model, "
                + "verify, evaluate, embed, gallery, serve, landmarks, demo", "frobnicate");
        assertUsageError(SphereKit::run, "spherekit", "Unknown option: '--bogus'", "--bogus");
        Run named = run(SphereKit::run, "verify");
        assertEquals(Cli.OK, named.code());
        assertTrue(named.out().startsWith("verify: " + Commands.VERIFY.summary()), named.out());
        Run helpVerify = run(SphereKit::run, "help", "verify");
        assertEquals(Cli.OK, helpVerify.code(), helpVerify.err());
        assertEquals(named.out(), helpVerify.out(), "'help verify' says what 'verify' says");
        assertEquals(help.out(), run(SphereKit::run, "help").out(), "'help' alone prints the help");
        assertUsageError(SphereKit::run, "spherekit", "unknown command 'nope'", "help", "nope");
    }

    @Test
    void exitCodesAndErrorLinesOfEveryCommand() {
        // the root has no failure of its own (it only prints); the conventions it shares are checked here
        assertVersion(CliTest::probe);
        assertUsageError(CliTest::probe, "probe", "--n must be >= 1, got 0", "--n", "0");
        assertUsageError(CliTest::probe, "probe", "Invalid value for option '--n': 'x' is not an int", "--n", "x");
        assertUsageError(CliTest::probe, "probe", "Unknown option: '--bogus'", "--bogus");
        Run f = assertFailure(CliTest::probe, "probe failed on purpose");
        assertEquals("error: probe failed on purpose\n", f.err());
        Run io = assertFailure(CliTest::probe, "cannot read /nowhere/file.bin: no such file", "--io");
        assertFalse(io.err().contains("at io.spherekit"), "no stack trace without --verbose: " + io.err());
    }

    @Test
    void verboseOnASubcommandPrintsTheStackTrace() {
        Run r = run((args, out, err) -> Cli.run(new Outer(), args, out, err), "probe", "--io", "--verbose");
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().startsWith("error: cannot read /nowhere/file.bin"), r.err());
        assertTrue(r.err().contains("at io.spherekit.core.cli.CliTest$Probe.call"), r.err());
        assertVersion((args, out, err) -> Cli.run(new Outer(), args, out, err), "probe");
    }
}
