package io.spherekit.core;

import java.util.Arrays;
import java.util.Locale;

/**
 * Test-time flip: how the embeddings of an aligned face and of its horizontal mirror are combined into one.
 *
 * <p>SphereFace's own LFW evaluation embeds every image twice, as is and mirrored left-right, and compares the
 * combined features. With {@code e} the model's embedding of the face and {@code f} that of its mirror (both of
 * length D), and {@code n(v) = v / ||v||₂}:
 * <pre>
 *   NONE    e                         (raw, length D: the model's output as is)
 *   SUM     n(n(e) + n(f))            (length D, unit L2 norm)
 *   CONCAT  n([n(e), n(f)]) = [n(e), n(f)] / √2     (length 2·D, unit L2 norm)
 * </pre>
 * Each view is normalised first, so both weigh the same whatever their norms; the cosine of two CONCAT embeddings
 * is then the mean of the two views' cosines. The mode is recorded in a model's metadata as
 * {@link ModelMetadata.Key#INPUT_FLIP} ({@link #id()}), because a decision threshold calibrated in one mode does
 * not hold in another, and a gallery's embeddings are only comparable with queries of the same mode.
 */
public enum TestTimeFlip {
    /** The face only: the model's raw embedding. */
    NONE,
    /** The normalised sum of the face's and the mirror's normalised embeddings (same length as the model's). */
    SUM,
    /** The concatenation of the two normalised embeddings, normalised (twice the model's length). */
    CONCAT;

    /** @return the name used on the command line and in metadata: {@code none}, {@code sum} or {@code concat} */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param s {@code none}, {@code sum} or {@code concat} (case-insensitive, surrounding blanks ignored)
     * @throws IllegalArgumentException for anything else, naming the accepted values
     */
    public static TestTimeFlip parse(String s) {
        if (s != null) {
            for (TestTimeFlip f : values()) {
                if (f.id().equals(s.strip().toLowerCase(Locale.ROOT))) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("test-time flip must be none, sum or concat, got '" + s + "'");
    }

    /**
     * @param modelDim D, the length of the model's embedding ({@code >= 1})
     * @return the length of this mode's combined embedding: {@code 2·D} for CONCAT, else {@code D}
     */
    public int outputDim(int modelDim) {
        if (modelDim < 1) {
            throw new IllegalArgumentException("modelDim must be >= 1, got " + modelDim);
        }
        return this == CONCAT ? 2 * modelDim : modelDim;
    }

    /** @return whether the mirror must be embedded too (not NONE) */
    public boolean needsMirror() {
        return this != NONE;
    }

    /**
     * Combines the face's embedding with its mirror's (see the class comment). Computed in double, returned as
     * float.
     *
     * @param face   the model's embedding of the face, length D
     * @param mirror the model's embedding of the mirrored face, length D; ignored (may be null) for NONE
     * @return a new array of length {@link #outputDim}{@code (D)}; for NONE a copy of {@code face}
     * @throws IllegalArgumentException if the lengths differ, or (SUM, CONCAT) a view or the SUM has zero norm or
     *                                  a value is not finite
     */
    public float[] combine(float[] face, float[] mirror) {
        if (this == NONE) {
            return Arrays.copyOf(face, face.length);
        }
        if (mirror == null || mirror.length != face.length) {
            throw new IllegalArgumentException("flip " + id() + ": the mirror's embedding has "
                    + (mirror == null ? "no" : Integer.toString(mirror.length)) + " values, the face's " + face.length);
        }
        int d = face.length;
        double nf = norm(face, "face");
        double nm = norm(mirror, "mirror");
        float[] out = new float[outputDim(d)];
        if (this == SUM) {
            double[] s = new double[d];
            double sq = 0;
            for (int i = 0; i < d; i++) {
                s[i] = face[i] / nf + mirror[i] / nm;
                sq += s[i] * s[i];
            }
            double ns = Math.sqrt(sq);
            if (!(ns > 0)) {
                throw new IllegalArgumentException("flip sum: the face's and the mirror's embeddings cancel out"
                        + " (zero-norm sum)");
            }
            for (int i = 0; i < d; i++) {
                out[i] = (float) (s[i] / ns);
            }
        } else {
            double k = Math.sqrt(2);
            for (int i = 0; i < d; i++) {
                out[i] = (float) (face[i] / nf / k);
                out[d + i] = (float) (mirror[i] / nm / k);
            }
        }
        return out;
    }

    private double norm(float[] v, String what) {
        double sq = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("flip " + id() + ": the " + what + "'s embedding holds " + x);
            }
            sq += (double) x * x;
        }
        if (!(sq > 0)) {
            throw new IllegalArgumentException("flip " + id() + ": the " + what + "'s embedding has zero norm");
        }
        return Math.sqrt(sq);
    }
}
