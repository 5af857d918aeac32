package io.spherekit.exporter.quant;

import java.nio.FloatBuffer;

/**
 * Histogram of {@code |x|} over {@code [0, limit]} with equal-width bins; a value above {@code limit} counts in the
 * last bin. Bin {@code i} covers {@code [i·w, (i+1)·w)} with {@code w = limit / bins}.
 */
public final class Histogram {
    /** Bins per tensor, as TensorRT's calibrator (Migacz 2017) and ONNX Runtime's {@code calibrate.py} default. */
    public static final int BINS = 2048;

    private final long[] counts;
    private final double limit;

    /**
     * @param bins  number of bins, {@code >= 1}
     * @param limit upper edge of the last bin, {@code > 0}
     */
    public Histogram(int bins, double limit) {
        if (bins < 1 || !(limit > 0) || Double.isInfinite(limit)) {
            throw new IllegalArgumentException("need bins >= 1 and a finite limit > 0, got " + bins + ", " + limit);
        }
        this.counts = new long[bins];
        this.limit = limit;
    }

    /** A histogram with the given counts (tests, and thresholds computed by hand). */
    public static Histogram of(double limit, long... counts) {
        Histogram h = new Histogram(counts.length, limit);
        System.arraycopy(counts, 0, h.counts, 0, counts.length);
        return h;
    }

    /** Adds every value of {@code values} (from its position to its limit; the position is not moved). */
    public void add(FloatBuffer values) {
        int n = counts.length;
        double perBin = n / limit;
        for (int i = values.position(), end = values.limit(); i < end; i++) {
            float v = Math.abs(values.get(i));
            int b = (int) (v * perBin);
            counts[b >= n || b < 0 ? n - 1 : b]++;
        }
    }

    /**
     * This histogram with bin 0's count replaced by bin 1's: the exact zeros that a ReLU output is full of (about half
     * its values) otherwise dominate the KL search, which then keeps level 0 for the zero bin alone and clips at 128
     * bins (measured on the demo model: thresholds at 1/8 of the observed maximum, min cosine to fp32 0.78). Our
     * choice, applied before {@link Thresholds#entropy} by {@link Calibrator}.
     */
    public Histogram withoutZeroSpike() {
        Histogram h = new Histogram(counts.length, limit);
        System.arraycopy(counts, 0, h.counts, 0, counts.length);
        if (counts.length > 1) {
            h.counts[0] = Math.min(counts[0], counts[1]);
        }
        return h;
    }

    /** @return the counts (a copy) */
    public long[] counts() {
        return counts.clone();
    }

    /** @return the bin width */
    public double binWidth() {
        return limit / counts.length;
    }

    /** @return the upper edge of the last bin */
    public double limit() {
        return limit;
    }

    long[] raw() {
        return counts;
    }
}
