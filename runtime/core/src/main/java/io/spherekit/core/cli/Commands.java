package io.spherekit.core.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Every SphereKit command, the module whose JVM runs it and its one-line summary. {@code spherekit --help}
 * prints this list; {@code bin/spherekit} dispatches each name to the module's {@link #mainClass()} so that,
 * for instance, {@code verify} never loads DL4J and {@code train} never loads ONNX Runtime.
 */
public enum Commands {
    TRAIN("train", "trainer", "io.spherekit.trainer.TrainCli",
            "Train a SphereFace network with a margin head (A-Softmax, AM-Softmax, ArcFace, softmax) in DL4J"),
    EXPORT_MODEL("export-model", "exporter/converter", "io.spherekit.exporter.ExportCli",
            "Write a trained DL4J model's embedding backbone (or a Keras 3 model) to ONNX"),
    VERIFY("verify", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Decide whether two face images show the same person (cosine of embeddings vs a threshold)"),
    EVALUATE("evaluate", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Evaluate an ONNX model on an LFW-style pair list (10-fold accuracy, ROC, AUC, EER, TAR@FAR)"),
    EMBED("embed", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Write the embeddings of images to a JSON file"),
    GALLERY("gallery", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Build a 1:N gallery of identities and search it (identification)"),
    SERVE("serve", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Run the HTTP verification service"),
    LANDMARKS("landmarks", "runtime/server", "io.spherekit.server.RuntimeMain",
            "Detect the largest face in every image and write its alignment points (for train --align detect)"),
    DEMO("demo", "runtime/core", "io.spherekit.core.cli.DemoCommand",
            "Train on LFW View-1 DevTrain, export to ONNX, evaluate pairsDevTest through ONNX Runtime");

    private static final String RUNTIME_MAIN = "io.spherekit.server.RuntimeMain";

    private final String command;
    private final String module;
    private final String mainClass;
    private final String summary;

    Commands(String command, String module, String mainClass, String summary) {
        this.command = command;
        this.module = module;
        this.mainClass = mainClass;
        this.summary = summary;
    }

    /** The name typed after {@code spherekit}. */
    public String command() {
        return command;
    }

    /** The module folder, relative to the repository root, whose {@code target/classpath.txt} runs it. */
    public String module() {
        return module;
    }

    /** The main class, in that module. */
    public String mainClass() {
        return mainClass;
    }

    /**
     * Whether the main class takes the command name as its first argument ({@code RuntimeMain} dispatches
     * {@code verify}, {@code evaluate}, ... as subcommands); the other main classes are the command itself.
     */
    public boolean passesName() {
        return mainClass.equals(RUNTIME_MAIN);
    }

    /** One-line summary for {@code spherekit --help}. */
    public String summary() {
        return summary;
    }

    /** The command with this name, if any. */
    public static Optional<Commands> byName(String name) {
        for (Commands c : values()) {
            if (c.command.equals(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** All command names, in help order. */
    public static List<String> names() {
        return Arrays.stream(values()).map(Commands::command).toList();
    }
}
