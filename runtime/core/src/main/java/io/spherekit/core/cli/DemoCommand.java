package io.spherekit.core.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code spherekit demo}: the end-to-end job on the shared LFW data. Runs, each in its own module's JVM
 * (so the steps load exactly what a user's would): {@code train} on the View-1 DevTrain people,
 * {@code export-model --check} to ONNX, {@code evaluate --write-threshold} on {@code pairsDevTest.txt} through ONNX
 * Runtime (which records the mean 10-fold threshold in the ONNX model, so {@code verify} and {@code serve} need no
 * {@code --threshold}). With {@code --align detect} every step works on detected, aligned faces ({@code train}
 * runs the {@code landmarks} step on its images first). Options it does not know are passed to {@code train}. When this JVM is terminated, the
 * running step's JVM is destroyed too.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = {"Train SphereFace (DL4J) on LFW View-1 DevTrain, export the backbone to ONNX with our Java "
                + "writer, and report LFW 10-fold accuracy on pairsDevTest through ONNX Runtime.",
            "Other options are passed to 'train' (see 'spherekit train --help'). The demo's own train defaults, each "
                + "replaced when given: --min-images 1 (all 4038 DevTrain identities, 9525 images), --epochs 12, "
                + "--lambda-gamma auto (λ reaches its floor at the last iteration), --val-fraction 0.",
            "The evaluation's mean 10-fold threshold is written into model.onnx (metadata spherekit.threshold, "
                + "spherekit.threshold.source), so 'spherekit verify --model <out>/model.onnx A B' and 'serve' "
                + "work without --threshold."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:failure (LFW missing, a step failed)", "2:usage error"})
public final class DemoCommand implements Callable<Integer> {

    /** {@code train} options the demo sets unless the user gives them: option, value. */
    static final String[][] TRAIN_DEFAULTS = {
            {"--min-images", "1"}, {"--epochs", "12"}, {"--lambda-gamma", "auto"}, {"--val-fraction", "0"}};

    @Spec
    CommandSpec spec;

    @Option(names = "--lfw", paramLabel = "DIR", description = LfwLocation.HELP)
    Path lfw;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/demo in the repository)")
    Path out;

    /** How images become model inputs in every step. */
    enum Align { crop, detect }

    @Option(names = "--align", defaultValue = "crop", paramLabel = "crop|detect",
            description = "crop: the fixed crop box (default). detect: train runs 'landmarks' (BlazeFace) on its"
                    + " training images first, trains on faces aligned onto the sphereface-112x96 template, and evaluates with"
                    + " --align detect (the model records it, so 'verify' and 'serve' align by default).")
    Align align;

    /** Test-time flip of the evaluate step (the TestTimeFlip modes). */
    enum Flip { none, sum, concat }

    @Option(names = "--flip", defaultValue = "sum", paramLabel = "none|sum|concat",
            description = "test-time flip of the evaluate step: none, sum (default) or concat of the embeddings of the"
                    + " image and its mirror. The threshold written into model.onnx is the flip mode's, and the model"
                    + " records the mode (spherekit.input.flip), so 'verify' and 'serve' flip the same way.")
    Flip flip;

    @Unmatched
    List<String> trainArgs = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path lfwDir = LfwLocation.resolve(lfw);
        if (!Files.isDirectory(lfwDir.resolve("lfw-deepfunneled")) || !Files.isRegularFile(lfwDir.resolve("pairsDevTest.txt"))) {
            throw new Cli.Failure("LFW not found at " + lfwDir + " (expected lfw-deepfunneled/ and pairsDevTest.txt "
                    + "inside); pass --lfw DIR or set " + LfwLocation.ENV);
        }
        Path home = home();
        Path outDir = (out != null ? out : home.resolve("runs/demo")).toAbsolutePath().normalize();
        Files.createDirectories(outDir);
        List<String> train = trainArguments(lfwDir, outDir, align, trainArgs);
        // with detect, train first runs 'spherekit landmarks' on exactly the images it trains on (cached)
        step(home, "1/3 train SphereFace (DL4J) on View-1 DevTrain people" + (align == Align.detect
                ? ", faces detected (landmarks step) and aligned" : ""), Commands.TRAIN, train);
        step(home, "2/3 export the backbone to ONNX (our Java writer)", Commands.EXPORT_MODEL,
                List.of("--model", outDir.resolve("model.zip").toString(), "--output", outDir.resolve("model.onnx").toString(), "--check"));
        step(home, "3/3 evaluate pairsDevTest through ONNX Runtime (10-fold, thresholds from the other 9"
                        + " folds)", Commands.EVALUATE, List.of("--model", outDir.resolve("model.onnx").toString(),
                        "--pairs", lfwDir.resolve("pairsDevTest.txt").toString(),
                        "--root", lfwDir.resolve("lfw-deepfunneled").toString(),
                        "--align", align.name(),
                        "--flip", flip.name(),
                        "--report", outDir.resolve("demo-report.json").toString(),
                        "--roc", outDir.resolve("roc.csv").toString(),
                        "--extra-json", outDir.resolve("train-report.json").toString(),
                        "--write-threshold"));
        PrintWriter err = spec.commandLine().getErr();
        err.println("report: " + outDir.resolve("demo-report.json"));
        err.println("try:    bin/spherekit verify --model " + outDir.resolve("model.onnx") + " A.jpg B.jpg");
        err.flush();
        return Cli.OK;
    }

    /**
     * The {@code train} command line: LFW, output folder, {@link #TRAIN_DEFAULTS} not given by the user (as
     * {@code --opt v} or {@code --opt=v}), the alignment, then the user's own options in their order.
     */
    static List<String> trainArguments(Path lfwDir, Path outDir, Align align, List<String> user) {
        List<String> train = new ArrayList<>(List.of("--lfw", lfwDir.toString(), "--out", outDir.toString()));
        // the demo's recipe (bench/results/demo-20261202-allids12-quiet): every DevTrain identity, 12 epochs, λ at
        // its floor at the end; each default gives way to the user's own value
        for (String[] d : TRAIN_DEFAULTS) {
            if (!user.contains(d[0]) && user.stream().noneMatch(a -> a.startsWith(d[0] + "="))) {
                train.addAll(List.of(d[0], d[1]));
            }
        }
        train.addAll(List.of("--align", align.name()));
        train.addAll(user);
        return train;
    }

    private static Path home() {
        String h = System.getProperty(LfwLocation.HOME_PROPERTY);
        if (h == null || h.isBlank()) {
            throw new Cli.Failure("demo needs the repository root in -Dspherekit.home (bin/spherekit sets it)");
        }
        return Path.of(h).toAbsolutePath().normalize();
    }

    /** Runs one step in its module's JVM with this JVM's options; a non-zero exit ends the demo. */
    private void step(Path home, String title, Commands command, List<String> args)
            throws IOException, InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        err.println("== " + title);
        err.flush();
        Path cpFile = home.resolve(command.module()).resolve("target/classpath.txt");
        Path classes = home.resolve(command.module()).resolve("target/classes");
        if (!Files.isRegularFile(cpFile)) {
            throw new Cli.Failure(cpFile + " is missing: build the modules first (bin/spherekit does)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(classes + File.pathSeparator + Files.readString(cpFile).trim());
        cmd.add(command.mainClass());
        if (command.passesName()) {
            cmd.add(command.command());
        }
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        // SIGTERM/SIGINT to the demo ends the step it is running, instead of leaving that JVM training alone.
        Thread killChild = new Thread(p::destroy, "spherekit-demo-stop-step");
        Runtime.getRuntime().addShutdownHook(killChild);
        int code;
        try {
            code = p.waitFor();
        } finally {
            removeHook(killChild);
            p.destroy(); // a no-op once it has exited; ends it if this thread was interrupted
        }
        if (code != 0) {
            throw new Cli.Failure("demo step '" + command.command() + "' failed with exit code " + code);
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting: the hook runs anyway and destroys the step's process
        }
    }

    public static void main(String[] args) {
        Cli.exit(new DemoCommand(), args);
    }
}
