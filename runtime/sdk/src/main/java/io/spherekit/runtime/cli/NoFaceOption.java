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

    /** What to do with a file that cannot be decoded as an image. */
    public enum OnBadImage { skip, fail }

    @Option(names = "--on-bad-image", defaultValue = "fail", paramLabel = "skip|fail",
            description = "A file that cannot be decoded as an image (not an image, truncated, unsupported format):"
                    + " fail stops the command with its error; skip leaves it out like a face-less image, printing"
                    + " 'skipped FILE: ...' and counting it as undecodable. Default: ${DEFAULT-VALUE}.")
    OnBadImage onBadImage;

    /** @return whether undecodable files are skipped */
    boolean skipUnreadable() {
        return onBadImage == OnBadImage.skip;
    }

    EmbeddingJob.NoFace mode() {
        return onNoFace == OnNoFace.fail ? EmbeddingJob.NoFace.FAIL : EmbeddingJob.NoFace.SKIP;
    }
}
