package io.spherekit.exporter.quant;

/**
 * Clipping thresholds from a {@link Histogram} of {@code |x|}, and the activation range they give.
 *
 * <p>Sources (implemented from the published descriptions, no code taken from them):
 * <ul>
 *   <li>Entropy / KL: S. Migacz, "8-bit Inference with TensorRT", GTC 2017, the calibration pseudo-code: for every
 *       candidate count {@code i} of kept bins, the reference distribution {@code P} is bins {@code [0, i)} with the
 *       clipped outliers (bins {@code >= i}) added to bin {@code i-1}; the candidate {@code Q} is bins
 *       {@code [0, i)} merged into 128 levels and expanded back to {@code i} bins; the threshold minimises
 *       {@code KL(P || Q)}. ONNX Runtime's {@code calibrate.py} ({@code CalibrationMethod.Entropy}) uses the same
 *       scheme.</li>
 *   <li>Percentile: ONNX Runtime's {@code CalibrationMethod.Percentile}: the value below which {@code p %} of the
 *       absolute values lie.</li>
 * </ul>
 * Choices of this implementation: the {@code i} bins are split into the levels as evenly as possible (level
 * {@code k} holds bins {@code [floor(k·i/L), floor((k+1)·i/L))}), a level's count is spread evenly over the bins of
 * that level where {@code P} is non-zero, a candidate whose {@code Q} is zero where {@code P} is not is infinitely
 * divergent (never chosen; no smoothing constant), ties go to the smaller threshold, and the threshold is the upper
 * edge {@code i·w} of the last kept bin (TensorRT's slide says {@code (i + 0.5)·w}: half a bin more).
 */
public final class Thresholds {
    /** Quantised levels of the entropy search: 128, the non-negative half of int8 (TensorRT). */
    public static final int ENTROPY_LEVELS = 128;

    private Thresholds() {
    }

    /**
     * @param h histogram of {@code |x|}
     * @param p percentile in {@code (0, 100]}
     * @return the upper edge of the first bin at which the cumulative count reaches {@code p %} of the total (the
     *         histogram's limit when it is empty)
     */
    public static double percentile(Histogram h, double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        long[] c = h.raw();
        long total = 0;
        for (long v : c) {
            total += v;
        }
        if (total == 0) {
            return h.limit();
        }
        double need = total * (p / 100.0);
        long cum = 0;
        for (int i = 0; i < c.length; i++) {
            cum += c[i];
            if (cum >= need) {
                return (i + 1) * h.binWidth();
            }
        }
        return h.limit();
    }

    /**
     * Entropy (KL divergence) threshold, see the class comment.
     *
     * @param h      histogram of {@code |x|}
     * @param levels quantised levels ({@link #ENTROPY_LEVELS} for int8)
     * @return the threshold, {@code i·w} for the best count of kept bins {@code i} in {@code [levels, bins]}; the
     *         histogram's limit when it has no more bins than levels or is empty
     */
    public static double entropy(Histogram h, int levels) {
        return entropyBins(h, levels) * h.binWidth();
    }

    /** The best count of kept bins {@code i} of {@link #entropy}. */
    static int entropyBins(Histogram h, int levels) {
        long[] c = h.raw();
        int n = c.length;
        if (levels < 1) {
            throw new IllegalArgumentException("levels must be >= 1, got " + levels);
        }
        long total = 0;
        for (long v : c) {
            total += v;
        }
        if (n <= levels || total == 0) {
            return n;
        }
        long[] suffix = new long[n + 1];
        for (int i = n - 1; i >= 0; i--) {
            suffix[i] = suffix[i + 1] + c[i];
        }
        double best = Double.POSITIVE_INFINITY;
        int bestI = n;
        double[] p = new double[n];
        double[] q = new double[n];
        for (int i = levels; i <= n; i++) {
            double kl = divergence(c, i, levels, suffix[i], p, q);
            if (kl < best) {
                best = kl;
                bestI = i;
            }
        }
        return bestI;
    }

    /** KL(P || Q) for {@code i} kept bins; {@code outliers} = count of bins {@code >= i}. */
    static double divergence(long[] c, int i, int levels, long outliers, double[] p, double[] q) {
        double pSum = 0;
        for (int j = 0; j < i; j++) {
            p[j] = c[j];
            pSum += c[j];
        }
        p[i - 1] += outliers;
        pSum += outliers;
        double qSum = 0;
        for (int k = 0; k < levels; k++) {
            int start = (int) ((long) k * i / levels);
            int end = (int) ((long) (k + 1) * i / levels);
            double sum = 0;
            int nonZero = 0;
            for (int j = start; j < end; j++) {
                sum += c[j];
                if (p[j] > 0) {
                    nonZero++;
                }
            }
            for (int j = start; j < end; j++) {
                q[j] = p[j] > 0 ? sum / nonZero : 0;
            }
            qSum += sum;
        }
        if (qSum == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int j = 0; j < i; j++) {
            if (p[j] > 0) {
                if (q[j] == 0) {
                    return Double.POSITIVE_INFINITY;
                }
                double pj = p[j] / pSum;
                kl += pj * Math.log(pj / (q[j] / qSum));
            }
        }
        return kl;
    }

    /**
     * The activation range of a tensor observed in {@code [min, max]}, clipped at {@code ±threshold}.
     *
     * @return {@code {max(min, -threshold), min(max, threshold)}}
     */
    public static float[] clip(float min, float max, double threshold) {
        return new float[]{(float) Math.max(min, -threshold), (float) Math.min(max, threshold)};
    }
}
