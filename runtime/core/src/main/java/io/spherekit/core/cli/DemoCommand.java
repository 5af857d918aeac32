package io.spherekit.core.cli;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code spherekit demo}: the end-to-end job on the shared LFW data. Runs, each in its own module's JVM
 * (so the steps load exactly what a user's would): {@code train} on the View-1 DevTrain people,
 * {@code export-model --check} to ONNX, {@code evaluate} on {@code pairsDevTest.txt} through ONNX Runtime.
 * Options it does not know are passed to {@code train}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        description = {"Train SphereFace (DL4J) on LFW View-1 DevTrain, export the backbone to ONNX with our Java "
                + "writer, and report LFW 10-fold accuracy on pairsDevTest through ONNX Runtime.",
            "Other options are passed to 'train' (see 'spherekit train --help'); without --val-fraction the demo "
                + "trains on every DevTrain identity (--val-fraction 0)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:failure (LFW missing, a step failed)", "2:usage error"})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--lfw", paramLabel = "DIR",
            description = "LFW folder (lfw-deepfunneled/ + protocol files). Default: $SPHEREKIT_LFW, else "
                    + "../shared/data/lfw next to the repository root")
    Path lfw;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/demo in the repository)")
    Path out;

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
        List<String> train = new ArrayList<>(List.of("--lfw", lfwDir.toString(), "--out", outDir.toString()));
        if (!trainArgs.contains("--val-fraction") && trainArgs.stream().noneMatch(a -> a.startsWith("--val-fraction="))) {
            train.addAll(List.of("--val-fraction", "0"));
        }
        train.addAll(trainArgs);
        step(home, "1/3 train SphereFace (DL4J) on View-1 DevTrain people", Commands.TRAIN, train);
        step(home, "2/3 export the backbone to ONNX (our Java writer)", Commands.EXPORT_MODEL,
                List.of("--model", outDir.resolve("model.zip").toString(), "--output", outDir.resolve("model.onnx").toString(), "--check"));
        step(home, "3/3 evaluate pairsDevTest through ONNX Runtime (10-fold, thresholds from the other 9 folds)",
                Commands.EVALUATE, List.of("--model", outDir.resolve("model.onnx").toString(),
                        "--pairs", lfwDir.resolve("pairsDevTest.txt").toString(),
                        "--root", lfwDir.resolve("lfw-deepfunneled").toString(),
                        "--report", outDir.resolve("demo-report.json").toString(),
                        "--roc", outDir.resolve("roc.csv").toString(),
                        "--extra-json", outDir.resolve("train-report.json").toString()));
        System.err.println("report: " + outDir.resolve("demo-report.json"));
        return Cli.OK;
    }

    private static Path home() {
        String h = System.getProperty("spherekit.home");
        if (h == null || h.isBlank()) {
            throw new Cli.Failure("demo needs the repository root in -Dspherekit.home (bin/spherekit sets it)");
        }
        return Path.of(h).toAbsolutePath().normalize();
    }

    /** Runs one step in its module's JVM with this JVM's options; a non-zero exit ends the demo. */
    private static void step(Path home, String title, Commands command, List<String> args)
            throws IOException, InterruptedException {
        System.err.println("== " + title);
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
        if (command.mainClass().equals("io.spherekit.server.RuntimeMain")) {
            cmd.add(command.command());
        }
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        int code = p.waitFor();
        if (code != 0) {
            throw new Cli.Failure("demo step '" + command.command() + "' failed with exit code " + code);
        }
    }

    public static void main(String[] args) {
        Cli.exit(new DemoCommand(), args);
    }
}
