package io.spherekit.core;

/** Similarity of embedding vectors. */
public final class Similarity {

    private Similarity() {
    }

    /**
     * Cosine similarity {@code a·b / (‖a‖ ‖b‖)}, accumulated in double.
     *
     * @param a embedding, length D ≥ 1
     * @param b embedding, length D
     * @return the raw cosine in [-1, 1] (clamped against rounding); not rescaled to [0, 1]
     * @throws IllegalArgumentException if the lengths differ, a vector is empty, has zero norm, or holds a
     *                                  non-finite value
     */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dimension mismatch: a has " + a.length + " values, b has " + b.length);
        }
        if (a.length == 0) {
            throw new IllegalArgumentException("vectors are empty");
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            double y = b[i];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        if (!Double.isFinite(dot) || !Double.isFinite(na) || !Double.isFinite(nb)) {
            throw new IllegalArgumentException("vectors hold non-finite values");
        }
        if (na == 0) {
            throw new IllegalArgumentException("vector a has zero norm");
        }
        if (nb == 0) {
            throw new IllegalArgumentException("vector b has zero norm");
        }
        double c = dot / (Math.sqrt(na) * Math.sqrt(nb));
        return Math.max(-1.0, Math.min(1.0, c));
    }
}
