package io.spherekit.runtime.cli;

import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.Provider;
import io.spherekit.core.SphereKitException;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options shared by every subcommand that loads a model. */
public final class ModelOptions {

    /** The command this mixin belongs to, so that bad values are usage errors of that command. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx",
            description = "ONNX embedding model (a relative path is taken from the current folder).")
    Path model;

    @Option(names = "--provider", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "Execution provider (default: ${DEFAULT-VALUE}). auto runs on CPU with the CPU build of"
                    + " ONNX Runtime, and on a GPU build tries CUDA and falls back to CPU with a warning."
                    + " A custom ONNX Runtime build (e.g. for CUDA 13) is selected with"
                    + " -Donnxruntime.native.path=DIR.")
    Provider provider;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "ONNX Runtime intra-op threads (0 = ONNX Runtime's default).")
    int threads;

    @Option(names = "--lfw-preprocessing", description = "When the model has no spherekit.input.* metadata, use"
            + " the SphereFace deep-funneled LFW preprocessing (crop 114x133 at 67,52 -> 112x96).")
    boolean lfwPreprocessing;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /** How an image becomes the model input. */
    public enum Align { crop, detect }

    @Option(names = "--align", paramLabel = "crop|detect",
            description = "crop: the model's fixed crop box (frames like deep-funneled LFW). detect: find the"
                    + " largest face (BlazeFace), align its eyes, nose and mouth onto the model's template, then"
                    + " embed; images without a face are refused (evaluate embeds them from the fixed crop and counts"
                    + " them). Default: how the model was trained (metadata spherekit.input.align: detect for a"
                    + " model trained with 'train --align detect'), else crop.")
    Align align;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx",
            description = "Face detector for --align detect (default: -D" + FaceDetector.MODEL_PROPERTY
                    + ", else runtime/sdk/target/detector/face_detection_front_128x128.onnx, which the build"
                    + " fetches).")
    Path detector;

    @Option(names = "--align-template", paramLabel = "NAME",
            description = "Alignment template for --align detect: sphereface-112x96 or arcface-112x112 (default:"
                    + " the model's metadata spherekit.input.align.template, else by input size).")
    String alignTemplate;

    /** The {@code --model} path as given (relative paths resolve against the current folder). */
    public Path model() {
        return model;
    }

    /**
     * Opens the embedder these options describe.
     *
     * @throws ParameterException (a usage error, exit 2) when {@code --threads} is negative; checked before the
     *                            model is read
     * @throws SphereKitException the model cannot be loaded (message names the file)
     */
    public FaceEmbedder open() throws SphereKitException {
        if (threads < 0) {
            throw new ParameterException(mixee.commandLine(), "--threads must be >= 0, got " + threads);
        }
        if (align != Align.detect && (detector != null || alignTemplate != null)) {
            throw new ParameterException(mixee.commandLine(), "--detector and --align-template need --align detect");
        }
        AlignmentTemplate template = null;
        if (alignTemplate != null) {
            try {
                template = AlignmentTemplate.named(alignTemplate);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(mixee.commandLine(), "--align-template: " + e.getMessage());
            }
        }
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(provider);
        b.optIntraOpThreads(threads);
        if (lfwPreprocessing) {
            b.optPreprocessing(Preprocessing.LFW_SPHEREFACE);
        }
        if (align == Align.detect) {
            b.optDetector(FaceDetector.builder().optModelPath(detector).optProvider(provider)
                    .optIntraOpThreads(threads).build());
            b.optAlignmentTemplate(template);
        } else if (align == null) { // the model's own mode: detect when it was trained on aligned faces
            b.optDetectorIfModelAligned(FaceDetector.builder().optProvider(provider).optIntraOpThreads(threads));
        }
        return b.build();
    }
}
