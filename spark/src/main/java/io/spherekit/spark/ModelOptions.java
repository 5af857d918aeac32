package io.spherekit.spark;

import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.Provider;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The model options of the Spark jobs: the subset of the local commands' options that executors can honour. */
public final class ModelOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx",
            description = "ONNX embedding model, readable on the driver; on the executors the same path, else the file"
                    + " of that name shipped with spark-submit --files (checked by SHA-256).")
    Path model;

    @Option(names = "--provider", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    Provider provider;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "ONNX Runtime intra-op threads of the executor's session (default: ${DEFAULT-VALUE}: each"
                    + " of an executor's concurrent tasks runs on its own core through the one shared session;"
                    + " 0 = ONNX Runtime's default).")
    int threads;

    /** How an image becomes the model input (as the local commands' --align). */
    public enum Align { crop, detect }

    @Option(names = "--align", paramLabel = "crop|detect",
            description = "crop: the model's fixed crop box. detect: BlazeFace, largest face aligned onto the model's"
                    + " template. Default: how the model was trained (metadata spherekit.input.align), else crop.")
    Align align;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx",
            description = "Face detector for --align detect (found on executors as --model is; default: the"
                    + " spherekit.detector.model system property, else the build's runtime/sdk/target/detector file).")
    Path detector;

    @Option(names = "--align-template", paramLabel = "NAME",
            description = "Alignment template for --align detect: sphereface-112x96 or arcface-112x112.")
    String alignTemplate;

    @Option(names = "--lfw-preprocessing", description = "When the model has no spherekit.input.* metadata, use the"
            + " SphereFace deep-funneled LFW preprocessing.")
    boolean lfwPreprocessing;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /**
     * @return the executor-side description of the embedder
     * @throws ParameterException bad combinations (usage error)
     * @throws SphereKitException the model cannot be read on the driver
     */
    public EmbedderSpec spec() throws SphereKitException {
        if (threads < 0) {
            throw new ParameterException(mixee.commandLine(), "--threads must be >= 0, got " + threads);
        }
        if (align != Align.detect && (detector != null || alignTemplate != null)) {
            throw new ParameterException(mixee.commandLine(), "--detector and --align-template need --align detect");
        }
        return EmbedderSpec.of(model, provider, threads, align == null ? null : align.name(), detector,
                alignTemplate, lfwPreprocessing);
    }
}
