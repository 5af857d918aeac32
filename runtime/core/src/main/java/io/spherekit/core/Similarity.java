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

    /**
     * The L2-normalised copy of an embedding, in double: {@code v / ‖v‖}. Shared by the exact gallery and the HNSW
     * index so both score with the same unit vectors.
     *
     * @param v    embedding of any length D
     * @param name what {@code v} is, for the error message (e.g. "query")
     * @return a new length-D array of norm 1
     * @throws IllegalArgumentException if {@code v} holds non-finite values or has zero norm
     */
    public static double[] unit(float[] v, String name) {
        double n2 = 0;
        for (float x : v) {
            n2 += (double) x * x;
        }
        if (!Double.isFinite(n2)) {
            throw new IllegalArgumentException(name + " holds non-finite values");
        }
        if (n2 == 0) {
            throw new IllegalArgumentException(name + " has zero norm");
        }
        double inv = 1 / Math.sqrt(n2);
        double[] u = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = v[i] * inv;
        }
        return u;
    }
}
