package io.spherekit.exporter.quant;

import java.util.Locale;

/**
 * How an activation tensor's quantisation range is chosen from the values seen on the calibration set.
 *
 * <p>Every method first records the tensor's observed {@code [min, max]}. {@link #MINMAX} uses it as is. The two
 * histogram methods build a histogram of {@code |x|} over {@code [0, max|x|]} ({@link Histogram#BINS} = 2048 bins, as
 * TensorRT) on a second pass and pick a clipping threshold {@code T}; the range becomes
 * {@code [max(min, -T), min(max, T)]}:
 * <ul>
 *   <li>{@link #PERCENTILE}: {@code T} = the upper edge of the first bin at which the cumulative count reaches
 *       {@code p %} of all values ({@link Thresholds#percentile}).</li>
 *   <li>{@link #ENTROPY}: {@code T} minimises the KL divergence between the clipped reference distribution and its
 *       128-level quantisation (Migacz, "8-bit Inference with TensorRT", GTC 2017; the method ONNX Runtime's
 *       {@code calibrate.py} calls "entropy"; {@link Thresholds#entropy}).</li>
 * </ul>
 */
public enum CalibrationMethod {
    MINMAX, PERCENTILE, ENTROPY;

    /** Default percentile of {@link #PERCENTILE}. */
    public static final double DEFAULT_PERCENTILE = 99.99;

    /** @return {@code minmax}, {@code percentile} or {@code entropy} */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return whether the method needs the second (histogram) pass */
    public boolean needsHistogram() {
        return this != MINMAX;
    }

    /**
     * @param s {@code minmax}, {@code percentile} or {@code entropy} (any case)
     * @throws IllegalArgumentException naming the accepted values
     */
    public static CalibrationMethod parse(String s) {
        for (CalibrationMethod m : values()) {
            if (m.id().equalsIgnoreCase(s.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("calibration method must be minmax, percentile or entropy, got '" + s + "'");
    }
}
