package io.spherekit.runtime;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.Similarity;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Decides whether two face images show the same person: cosine of the two embeddings compared with a named
 * threshold, {@code same = cosine >= threshold}.
 *
 * <p>Thread-safe if its {@link FaceEmbedder} is (it is). The verifier does not own the embedder: closing the
 * embedder is the caller's job.
 */
public final class Verifier {

    /** Model metadata key holding the decision threshold (a cosine value, e.g. "0.31"). */
    public static final String THRESHOLD_KEY = ModelMetadata.Key.THRESHOLD.key();

    /**
     * Model metadata key saying how {@link #THRESHOLD_KEY} was calibrated (e.g. "pairsDevTest.txt 10-fold mean",
     * "held-out DevTrain identities, 10-fold mean threshold").
     */
    public static final String THRESHOLD_SOURCE_KEY = ModelMetadata.Key.THRESHOLD_SOURCE.key();

    private final FaceEmbedder embedder;
    private final double threshold;
    private final String thresholdSource;

    private Verifier(FaceEmbedder embedder, double threshold, String thresholdSource) {
        this.embedder = Objects.requireNonNull(embedder, "embedder");
        if (!Double.isFinite(threshold) || threshold < -1 || threshold > 1) {
            throw new IllegalArgumentException("threshold must be a cosine in [-1,1], got " + threshold);
        }
        this.threshold = threshold;
        this.thresholdSource = thresholdSource;
    }

    /**
     * @param embedder  embedder to use
     * @param threshold cosine threshold in [-1, 1]
     * @throws IllegalArgumentException if the threshold is outside [-1, 1] or not finite
     */
    public static Verifier withThreshold(FaceEmbedder embedder, double threshold) {
        return new Verifier(embedder, threshold, "explicit");
    }

    /**
     * Uses the threshold stored in the model metadata under {@link #THRESHOLD_KEY}. That threshold holds for the
     * test-time flip the metadata records ({@code spherekit.input.flip}, absent = {@code none}); an embedder with
     * another flip is refused, since its cosines are on another scale.
     *
     * @throws SphereKitException if the key is missing or is not a number in [-1, 1], or the embedder's
     *                            {@link FaceEmbedder#flip()} is not the one the threshold was calibrated with
     */
    public static Verifier fromModelMetadata(FaceEmbedder embedder) throws SphereKitException {
        OptionalDouble t = embedder.modelMetadata().threshold(); // validated in [-1, 1] when the model loaded
        if (t.isEmpty()) {
            throw new SphereKitException("model " + embedder.modelPath() + " has no metadata key " + THRESHOLD_KEY
                    + "; give the threshold explicitly");
        }
        TestTimeFlip calibrated = embedder.modelMetadata().flip();
        if (embedder.flip() != calibrated) {
            throw new SphereKitException("model " + embedder.modelPath() + "'s threshold " + t.getAsDouble()
                    + " was calibrated with test-time flip " + calibrated.id() + " (metadata "
                    + ModelMetadata.Key.INPUT_FLIP + (embedder.modelMetadata().get(ModelMetadata.Key.INPUT_FLIP)
                    .isPresent() ? "" : " absent") + "), but the embedder uses flip " + embedder.flip().id()
                    + ": use flip " + calibrated.id() + ", or give a threshold calibrated for flip "
                    + embedder.flip().id() + " (e.g. evaluate --flip " + embedder.flip().id() + " --write-threshold)");
        }
        return new Verifier(embedder, t.getAsDouble(), "model metadata " + THRESHOLD_KEY);
    }

    /**
     * Embeds both images (one batch of 2) and compares them.
     *
     * @throws NullPointerException     if {@code a} or {@code b} is null; the message names which
     * @throws SphereKitException       if inference fails
     * @throws IllegalArgumentException if an embedding has zero norm
     * @throws IllegalStateException    after the embedder was closed
     */
    public Verification verify(BufferedImage a, BufferedImage b) throws SphereKitException {
        requireBoth(a, b);
        float[][] e = embedder.embed(List.of(a, b));
        return verify(e[0], e[1]);
    }

    /**
     * Embeds both images (one batch of 2), naming them in errors, and compares them. With an aligning embedder
     * ({@link FaceEmbedder.Builder#optDetector}), each image's largest face is used and blank or face-less images
     * are refused rather than compared.
     *
     * @throws NullPointerException if {@code a} or {@code b} is null; the message names which
     * @throws NoFaceException       with a detector, naming the image that has no usable face
     * @throws SphereKitException    if inference fails
     * @throws IllegalStateException after the embedder was closed
     */
    public Verification verify(BufferedImage a, String nameA, BufferedImage b, String nameB)
            throws SphereKitException {
        requireBoth(a, b);
        float[][] e = embedder.embed(List.of(a, b), List.of(Objects.requireNonNullElse(nameA, "image a"),
                Objects.requireNonNullElse(nameB, "image b")));
        return verify(e[0], e[1]);
    }

    /**
     * Compares two precomputed embeddings.
     *
     * @throws NullPointerException     if {@code a} or {@code b} is null; the message names which
     * @throws IllegalArgumentException if the lengths differ or an embedding has zero norm
     */
    public Verification verify(float[] a, float[] b) {
        requireBoth(a, b);
        double score = Similarity.cosine(a, b);
        return new Verification(score, score >= threshold, threshold);
    }

    private static void requireBoth(Object a, Object b) {
        Objects.requireNonNull(a, "a (the first face) must not be null");
        Objects.requireNonNull(b, "b (the second face) must not be null");
    }

    /** @return the cosine decision threshold */
    public double threshold() {
        return threshold;
    }

    /** @return where the threshold came from: "explicit" or "model metadata spherekit.threshold" */
    public String thresholdSource() {
        return thresholdSource;
    }

    /** @return the embedder in use */
    public FaceEmbedder embedder() {
        return embedder;
    }
}
