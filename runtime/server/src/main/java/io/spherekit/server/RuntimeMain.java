package io.spherekit.server;

import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.cli.EmbedCommand;
import io.spherekit.runtime.cli.EvaluateCommand;
import io.spherekit.runtime.cli.GalleryCommand;
import io.spherekit.runtime.cli.LandmarksCommand;
import io.spherekit.runtime.cli.VerifyCommand;
import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The runtime JVM's entry point for {@code verify}, {@code evaluate}, {@code embed}, {@code gallery build|add|remove|search|stats}
 * and {@code serve} (ONNX Runtime, no DL4J). Exit codes, errors and {@code --version} follow {@link Cli}.
 */
@Command(name = "spherekit", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = "Face verification with ONNX Runtime.",
        subcommands = {VerifyCommand.class, EvaluateCommand.class, EmbedCommand.class, GalleryCommand.class,
            ServeCommand.class, LandmarksCommand.class})
public final class RuntimeMain implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: verify, evaluate, embed, gallery or serve");
    }

    /**
     * Runs the command line and returns its exit code (does not call {@link System#exit}).
     *
     * @param args command-line arguments, the subcommand first
     * @param out  standard output
     * @param err  standard error
     * @return 0 ok, 1 failure, 2 usage error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.run(new RuntimeMain(), args, out, err);
    }

    /** Entry point used by {@code bin/spherekit}. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }
}
