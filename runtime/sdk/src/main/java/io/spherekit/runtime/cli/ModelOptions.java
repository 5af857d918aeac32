package io.spherekit.runtime.cli;

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
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(provider);
        b.optIntraOpThreads(threads);
        if (lfwPreprocessing) {
            b.optPreprocessing(Preprocessing.LFW_SPHEREFACE);
        }
        return b.build();
    }
}
