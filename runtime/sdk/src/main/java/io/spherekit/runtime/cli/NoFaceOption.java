package io.spherekit.runtime.cli;

import picocli.CommandLine.Option;

/** The {@code --on-no-face skip|fail} option of the commands that embed many files ({@code embed}, {@code gallery build}). */
public final class NoFaceOption {

    /** What {@code --align detect} does with an image without a usable face. */
    public enum OnNoFace { skip, fail }

    @Option(names = "--on-no-face", defaultValue = "skip", paramLabel = "skip|fail",
            description = "With --align detect, an image without a usable face (no face found, face too small):"
                    + " skip leaves it out, prints 'skipped FILE: REASON' on stderr and counts it in the output;"
                    + " fail stops the command with that error. Default: ${DEFAULT-VALUE}.")
    OnNoFace onNoFace;

    EmbeddingJob.NoFace mode() {
        return onNoFace == OnNoFace.fail ? EmbeddingJob.NoFace.FAIL : EmbeddingJob.NoFace.SKIP;
    }
}
