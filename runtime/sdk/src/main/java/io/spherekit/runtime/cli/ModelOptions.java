package io.spherekit.runtime.cli;

import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.Provider;
import io.spherekit.core.SphereKitException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by every subcommand that loads a model. */
public final class ModelOptions {

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx", description = "ONNX embedding model.")
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
     * @throws SphereKitException the model cannot be loaded (message names the file)
     */
    public FaceEmbedder open() throws SphereKitException {
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(provider);
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        }
        b.optIntraOpThreads(threads);
        if (lfwPreprocessing) {
            b.optPreprocessing(Preprocessing.LFW_SPHEREFACE);
        }
        return b.build();
    }
}
